"""Read models of production-safety accidents: the register (one row per accident, with its events as
plain JSON) and the accountability log (regradings, findings, late 补报), queried by area and period."""
