"""How a TLS scan runs: the killable child process, the connection pool, sslyze's plugins as jobs, resets,
and the one module that touches sslyze's and nassl's private names (sslyze_compat.py)."""
