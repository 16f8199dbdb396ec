"""The facility simulator: the site's PLCs served over real Modbus TCP."""
