"""ISO 8583 (1987) between the terminal, the bank host and the interbank switch.

:mod:`.profile` (field specification, MTIs, codes, field helpers), :mod:`.codec` (encode, decode, the
MAC rule, log form) and :mod:`.framing` (2-byte big-endian length prefix over TCP). See docs/iso8583.md.
"""
