"""Reading an uploaded file into its values: the encoding (a byte-order mark, else detected by
charset-normalizer), TXT (one value a line) or CSV (the chosen column, a header row recognised),
CRLF or LF. The values come out in chunks of `size`, with the file's line numbers, so that a
file of any length is read in bounded memory."""
import codecs
import csv
import re
from dataclasses import dataclass

import charset_normalizer

from ..models import Channel
from ..normalize import MD5_RE
from ..validation import Invalid

BLOCK = 1 << 20
SAMPLE = 64 * 1024
BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"))
# Among encodings that read a sample equally well, the likelier ones for lists of contacts.
PREFERRED = ("utf_8", "cp1252", "latin_1", "cp1251", "cp1250")
DELIMITERS = ",;\t|"
HEADER_NAMES = {
    Channel.EMAIL: {"email", "e-mail", "email address", "e-mail address", "emailaddress", "mail",
                    "email_address", "address", "md5", "email_md5", "hash"},
    Channel.PHONE: {"phone", "phone number", "phone_number", "phonenumber", "mobile", "msisdn",
                    "number", "tel", "telephone", "cell", "md5", "phone_md5", "hash"},
}
PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{7,20}$")


@dataclass
class FileShape:
    """What reading found: the encoding, "txt" or "csv", the delimiter, the column (index and
    label) and whether the first row is a header."""

    encoding: str
    file_format: str = "txt"
    delimiter: str = ","
    column_index: int = 0
    column_label: str = ""
    header: bool = False
    total: int = 0


def detect_encoding(sample):
    """The codec name of a sample of the file; Invalid (field file) when it is not text."""
    for bom, name in BOMS:
        if sample.startswith(bom):
            return name
    matches = charset_normalizer.from_bytes(sample)
    best = matches.best()
    if best is None:
        raise Invalid.on("file", "This is not a text file (TXT or CSV); it looks binary.")
    tied = [m for m in matches if m.chaos <= best.chaos]
    for preferred in PREFERRED:
        for match in tied:
            if preferred in match.could_be_from_charset:
                return _superset(preferred)
    return _superset(best.encoding)


def _superset(name):
    # ASCII so far may meet UTF-8 further on; Latin-1 bytes read the same in Windows-1252.
    return {"ascii": "utf_8", "latin_1": "cp1252"}.get(name, name)


def _sample_of(head):
    """The first bytes of the file, cut at a line end so that no character is cut in two."""
    if len(head) < SAMPLE:
        return head
    end = head.rfind(b"\n")
    if end <= 0:
        return head
    # UTF-16 and UTF-32 write the newline's zero bytes after it (little-endian).
    while end + 1 < len(head) and head[end + 1] == 0:
        end += 1
    return head[:end + 1]


def _lines(stream, head, encoding):
    """The file's lines, decoded, without their line ends: `head` (the bytes read so far), then
    the rest of the stream."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    carry, number = "", 0
    block, final = head, False
    while True:
        try:
            text = carry + decoder.decode(block, final=final)
        except UnicodeDecodeError:
            raise Invalid.on("file", f"The file is not {encoding} text after line {number} "
                                     f"(or it is binary).")
        if "\x00" in text:
            raise Invalid.on("file", "This is not a text file (TXT or CSV); it looks binary.")
        lines = text.split("\n")
        carry = lines.pop()
        for line in lines:
            number += 1
            yield line.rstrip("\r")
        if final:
            break
        block = stream.read(BLOCK)
        final = not block
    if carry:
        yield carry.rstrip("\r")


def _looks_like_value(cell, channel):
    cell = cell.strip()
    if MD5_RE.match(cell.lower()):
        return True
    if channel == Channel.EMAIL:
        return "@" in cell
    return bool(PHONE_LIKE.match(cell)) and sum(c.isdigit() for c in cell) >= 7


def _sniff(first_lines):
    """The CSV dialect of the file's first lines; None when they show none."""
    try:
        return csv.Sniffer().sniff("\n".join(first_lines), delimiters=DELIMITERS)
    except csv.Error:
        return None


def _delimiter(file_name, column, first_lines):
    """The delimiter of a CSV file; None for a TXT one (one value a line). CSV when its name
    says so (.csv, .tsv) or a column is named, TXT when its name is .txt; else CSV when every
    first line has several cells."""
    name = (file_name or "").lower()
    if name.endswith(".tsv"):
        return "\t"
    named_csv = bool(column) or name.endswith(".csv")
    if not named_csv and name.endswith(".txt"):
        return None
    dialect = _sniff(first_lines)
    if named_csv:
        return dialect.delimiter if dialect else ","
    if dialect and all(len(next(csv.reader([line], dialect))) > 1 for line in first_lines):
        return dialect.delimiter
    return None


def _choose_column(rows, column, channel):
    """(index, label, header) of the column to read; Invalid (field column) when none is usable."""
    first = [cell.strip() for cell in rows[0]]
    header = not any(_looks_like_value(cell, channel) for cell in first)
    column = (column or "").strip()
    if column.isdigit():
        index = int(column) - 1
        if index < 0 or index >= max(len(row) for row in rows):
            raise Invalid.on("column", f"The file has no column {column}: it has "
                                       f"{max(len(row) for row in rows)}.")
        return index, (first[index] if header and index < len(first) else f"column {column}"), \
            header
    if column:
        names = [cell.lower() for cell in first]
        if column.lower() not in names:
            raise Invalid.on("column", f"No column is named “{column}” in the header row "
                                       f"({', '.join(first)}).")
        return names.index(column.lower()), first[names.index(column.lower())], True
    if header:
        for index, cell in enumerate(first):
            if cell.lower() in HEADER_NAMES[channel]:
                return index, cell, True
    body = rows[1:] if header else rows
    widest = max((len(row) for row in body), default=0)
    for index in range(widest):
        cells = [row[index] for row in body if index < len(row) and row[index].strip()]
        if cells and sum(_looks_like_value(c, channel) for c in cells) * 2 >= len(cells):
            return index, (first[index] if header and index < len(first) else
                           f"column {index + 1}"), header
    what = "email addresses" if channel == Channel.EMAIL else "phone numbers"
    raise Invalid.on("column", f"No column of the file holds {what} or MD5s; name the column "
                               f"to read.")


def _csv_values(lines, shape):
    """One value a physical line (the chosen column's cell, "" for lines without one), so that
    line numbers stay the file's even where a quoted cell spans lines."""
    reader = csv.reader(lines, delimiter=shape.delimiter)
    seen = 0
    for row in reader:
        spanned = reader.line_num - seen
        seen = reader.line_num
        cell = row[shape.column_index] if shape.column_index < len(row) else ""
        yield " ".join(cell.split("\n"))
        for _ in range(spanned - 1):
            yield ""


def _txt_values(lines, shape, channel):
    """The lines as they are; a first line naming the values (email, phone...) is a header row,
    which _chunked blanks out."""
    for number, line in enumerate(lines):
        if number == 0 and line.strip().lower().lstrip("\ufeff") in HEADER_NAMES[channel]:
            shape.header = True
        yield line


def read_values(stream, channel, file_name, column, size):
    """(shape, chunks): chunks yields (first line number, lines) with `size` values each (blank
    lines kept as "" so that numbers follow the file); shape.total counts the values once the
    chunks are all read. Invalid (field file or column) for a file that holds no values or no
    usable column."""
    head = stream.read(SAMPLE)
    sample = _sample_of(head)
    if not sample.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise Invalid.on("file", "The file is empty.")
    shape = FileShape(detect_encoding(sample))
    first_lines = []
    for line in _lines(_Nothing(), sample, shape.encoding):
        if line.strip():
            first_lines.append(line)
        if len(first_lines) == 50:
            break
    if not first_lines:
        raise Invalid.on("file", "The file holds only blank lines.")
    lines = _lines(stream, head, shape.encoding)
    delimiter = _delimiter(file_name, column, first_lines)
    if delimiter is not None:
        shape.file_format, shape.delimiter = "csv", delimiter
        rows = [row for row in csv.reader(first_lines, delimiter=shape.delimiter) if row]
        shape.column_index, shape.column_label, shape.header = \
            _choose_column(rows, column, channel)
        values = _csv_values(lines, shape)
    else:
        values = _txt_values(lines, shape, channel)
    return shape, _chunked(values, shape, size)


def _chunked(values, shape, size):
    """Chunks of `size` non-blank values, the header row (if any) blanked out."""
    chunk, first_line, count = [], 1, 0
    for number, value in enumerate(values, 1):
        if number == 1 and shape.header:
            value = ""
        value = value.strip()
        chunk.append(value)
        if value:
            count += 1
            shape.total += 1
        if count == size:
            yield first_line, chunk
            chunk, first_line, count = [], number + 1, 0
    if count:
        yield first_line, chunk
    if not shape.total:
        raise Invalid.on("file", "The file holds no values" +
                         (" besides its header row." if shape.header else "."))


class _Nothing:
    """A stream at its end: reading the sample alone."""

    @staticmethod
    def read(_size):
        return b""
