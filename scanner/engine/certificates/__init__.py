"""The certificate family: the leaf's facts, chain building, AIA, trust signals, revocation and CAA."""
