"""The review workflow's models (Submission, Review, Conflict, Event) arrive with
issues 3 and 4; they reuse registry.listing.Listing for the proposed content."""
