"""`stepdown simulate`: write a simulated step-down recording (filled in by the simulator work)."""
