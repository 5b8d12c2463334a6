"""What the tests share: loopback servers, page and config builders, record factories.

Test modules import from here, never from one another.
"""
