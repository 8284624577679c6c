"""ftplib2's test modules by area; shared servers in servers.py, shared fixtures in fixtures.py."""
