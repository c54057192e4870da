"""Handshake simulation: which protocol and suite real clients (profiles as data) would get."""
