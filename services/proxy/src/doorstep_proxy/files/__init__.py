"""Photos and scans of a case's materials: resumable uploads (``Content-Range`` chunks), checked
by content, stripped of metadata, encrypted at rest in the proxy's database, downloads audited
(services/proxy/CASES.md, "Material files")."""
