"""The HTTP side: redirects, HSTS, the page, headers and cookies, security.txt, robots.txt, HTTP/2."""
