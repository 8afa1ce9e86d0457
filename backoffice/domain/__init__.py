"""Plain-Python rules of the back-office: no Flask import, driven by views, CLI and tests alike."""
