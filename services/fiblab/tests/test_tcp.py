from fiblab.tcp import MAX_LINE, LineBuffer, LineTooLong


def test_lines_in_one_feed_and_a_remainder():
    lines = LineBuffer()
    assert lines.feed(b"1\n2\r\n3") == [b"1", b"2\r"]
    assert lines.feed(b"4\n") == [b"34"]
    assert lines.error is None


def test_split_anywhere():
    stream = b"10\n20\r\n\n30\n"
    for cut in range(len(stream) + 1):
        lines = LineBuffer()
        assert lines.feed(stream[:cut]) + lines.feed(stream[cut:]) == [b"10", b"20\r", b"", b"30"]


def test_byte_by_byte():
    lines = LineBuffer()
    got = [line for byte in b"1\n22\n333\n" for line in lines.feed(bytes([byte]))]
    assert got == [b"1", b"22", b"333"]


def test_limit_is_inclusive():
    lines = LineBuffer()
    assert lines.feed(b"9" * MAX_LINE + b"\n") == [b"9" * MAX_LINE]
    assert lines.error is None


def test_overlong_complete_line_keeps_earlier_lines():
    lines = LineBuffer()
    assert lines.feed(b"1\n" + b"9" * (MAX_LINE + 1) + b"\n2\n") == [b"1"]
    assert isinstance(lines.error, LineTooLong)
    assert lines.feed(b"3\n") == []


def test_overlong_partial_line_is_caught_before_its_newline():
    lines = LineBuffer()
    assert lines.feed(b"9" * MAX_LINE) == []
    assert lines.error is None
    assert lines.feed(b"9") == []
    assert isinstance(lines.error, LineTooLong)
