"""Watching a user's program from the dashboard side: starting and stopping it, keeping its
output, and holding what its agent reports. No screen imports: a plain script can use it."""
