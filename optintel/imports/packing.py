"""How an import's chunks and invalid-lines reports are stored: compressed, then encrypted with
the app's keys, so that the database never holds the plain values of a file (an MD5-only list's
file included) while it waits for the workers. Their columns are declared encrypted, so that
`flask secrets rotate` re-encrypts them with the other stored secrets."""
import zlib

from ..keys import current_keyring


def pack(lines):
    """Bytes that keep the lines (no line holds a newline)."""
    return current_keyring().fernet.encrypt(zlib.compress("\n".join(lines).encode(), 1))


def unpack(payload):
    """The lines that pack() kept."""
    return zlib.decompress(current_keyring().fernet.decrypt(payload)).decode().split("\n")
