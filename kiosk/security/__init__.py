"""Security: PIN handling (simulated HSM), encryption at rest, masking, technician accounts."""
