"""The files service: e-files: notesheets, correspondence, drafts for approval and their movement."""
