"""Protocol support and cipher suite enumeration, key exchange groups, and the one protocol table."""
