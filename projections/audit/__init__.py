"""The seal: `seal_storage` (its tables and the stored rows it reads, per backend) and `seal` (the sealer and verifier)."""
