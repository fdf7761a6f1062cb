"""Geographic core: coordinate systems (incl. GCJ-02 and BD-09), file I/O and validation."""
