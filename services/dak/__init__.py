"""The dak service: receipts (letters, petitions, e-mails): diary numbers, scans, OCR text and their movement."""
