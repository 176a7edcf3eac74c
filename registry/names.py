"""When two spellings of a project's name are the same name: one normalisation, used where the
key is stored (Project.name_key, written with every save) and where rows are matched (imports).

NFKC folds compatibility forms (full-width "ＡＩ" is "AI", a no-break or ideographic space is a
space, "ﬁ" is "fi"), case folding handles more than lower-casing ("Æ" is "æ", "ß" is "ss",
"Ü" is "ü"), and runs of white space become one space, with none at either end. Done in
Python on both sides: a database's LOWER() depends on its collation (SQLite's folds ASCII
only), so matching never asks the database to normalise.
"""

import unicodedata

MAX_KEY_LENGTH = 255  # an 80-character name can grow when folded ("ß" is "ss", "ﬃ" is "ffi")


def name_key(name):
    """The key of a name: equal for spellings of the same name."""
    text = unicodedata.normalize("NFKC", str(name or ""))
    text = unicodedata.normalize("NFKC", text.casefold())
    return " ".join(text.split())[:MAX_KEY_LENGTH]
