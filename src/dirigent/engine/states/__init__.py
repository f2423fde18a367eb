"""One module per state family; each exports handlers the interpreter dispatches to by state type."""
