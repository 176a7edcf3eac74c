"""Structured logs: one JSON object per line, for a log shipper to index.

Every record carries time, level, logger and message, plus the fields passed in `extra`
(ids, actions, states, IP addresses — never passwords or listing content). Two loggers
matter for audits: "aimap.workflow" (every Event, logged by review.audit as it writes it) and
"aimap.security" (lock-outs, refused logins, CSRF failures, denied access, refused
uploads).
"""

import json
import logging

# Attributes every LogRecord has; anything else came from `extra`.
STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}

workflow = logging.getLogger("aimap.workflow")
security = logging.getLogger("aimap.security")


class JsonFormatter(logging.Formatter):
    def format(self, record):
        data = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in STANDARD and not key.startswith("_"):
                data[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)
