from opsconsole.lib.csv_cells import lines, neutralise


def test_formula_cells_get_an_apostrophe_and_plain_text_stays():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralise(f"{start}SUM(A1)") == f"'{start}SUM(A1)"
    assert neutralise("Project P-1 closed") == "Project P-1 closed"
    assert neutralise(None) == "" and neutralise("a\x00b") == "ab"


def test_long_text_is_cut_with_a_marker_unless_unbounded():
    assert neutralise("x" * 5000, limit=10) == "x" * 10 + "… [truncated]"
    assert neutralise("x" * 5000, limit=None) == "x" * 5000


def test_lines_are_csv_with_the_header_first():
    assert list(lines(("a", "b"), [[1, 'say "hi"']])) == ["a,b\r\n", '1,"say ""hi"""\r\n']
