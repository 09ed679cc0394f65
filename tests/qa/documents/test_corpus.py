from __future__ import annotations

import json

import pytest

from qa.documents.load import BUNDLED_CORPUS, CorpusError, load_corpus


@pytest.fixture(scope="module")
def report():
    return load_corpus(BUNDLED_CORPUS)


def test_report_counts(report):
    paragraphs = [p for p in report if p.paragraph is not None]
    boxes = [p for p in report if p.box]
    footnotes = [p for p in report if p.local_id.startswith("fn")]
    assert [p.paragraph for p in paragraphs] == list(range(1, 154))
    assert len(boxes) == 10
    assert len(footnotes) == 2
    assert len(report) == 165
    assert len({p.id for p in report}) == len(report)
    assert {p.document.id for p in report} == {"un-sg-report-2023-zh-hant"}
    assert report[0].id == "un-sg-report-2023-zh-hant:p1" and report[0].local_id == "p1"


def test_year_after_number_is_paragraph_seven(report):
    p7 = next(p for p in report if p.paragraph == 7)
    assert p7.text.startswith("2022年,我們與當地合作夥伴")


def test_sections_and_headings(report):
    p119 = next(p for p in report if p.paragraph == 119)
    assert p119.section == "E. 有效協調人道主義援助"
    assert p119.heading == "主要成果"
    p1 = next(p for p in report if p.paragraph == 1)
    assert p1.section == "第一章 導言"


def test_boxes_keep_title_and_preceding_paragraph(report):
    boxes = {p.box: p for p in report if p.box}
    space = boxes["外层空间促进可持续发展"]
    assert space.text.startswith("2022年,联合国庆祝了")
    assert space.after == 46
    # two boxes in a row, and a box followed directly by a heading
    assert boxes["终结塑料污染"].after == 46
    assert "第一次人权、民间社会和反恐高级别国际会议" in boxes


def test_no_headings_edit_links_or_licence(report):
    texts = [p.text for p in report]
    assert "編輯" not in texts
    assert not any("Public domain" in t or "本作品來自聯合國官方文件" in t for t in texts)
    assert not any(t.startswith("官方紀錄") for t in texts)  # the licence's own numbered list


def test_footnotes_point_at_their_paragraphs(report):
    notes = {p.local_id: p for p in report if p.local_id.startswith("fn")}
    assert notes["fn1"].after == 1 and notes["fn1"].text.startswith("按照聯合國秘書處的經常預算")
    assert notes["fn2"].after == 81 and "科索沃" in notes["fn2"].text


def test_squad_paragraphs_become_passages(tmp_path):
    data = {
        "data": [
            {
                "title": "T",
                "paragraphs": [
                    {
                        "id": "P-1",
                        "context": "甲乙丙。",
                        "qas": [{"id": "q", "question": "?", "answers": [{"text": "乙", "answer_start": 1}]}],
                    },
                    {"id": "P-2", "context": "丁戊。", "qas": []},
                ],
            }
        ]
    }
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    passages = load_corpus(path)
    assert [(p.id, p.text, p.section) for p in passages] == [("squad:P-1", "甲乙丙。", "T"),
                                                            ("squad:P-2", "丁戊。", "T")]


def test_jsonl_passages(tmp_path):
    path = tmp_path / "doc.jsonl"
    path.write_text(
        '{"id": "a", "text": "第一段"}\n\n{"id": "b", "text": "第二段", "section": "S", "paragraph": 2}\n',
        encoding="utf-8",
    )
    passages = load_corpus(path)
    assert [(p.id, p.section, p.paragraph) for p in passages] == [("doc:a", None, None), ("doc:b", "S", 2)]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.jsonl", '{"id": "a", "text": "x"}\n{"id": "b", "text": \n', "bad.jsonl:2: not valid JSON"),
        ("notext.jsonl", '{"id": "a"}\n', 'notext.jsonl:1: each line needs an object with a non-empty "text"'),
        ("dup.jsonl", '{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', "dup.jsonl:2: duplicate id 'a'"),
        ("empty.txt", "  \n", "empty.txt: the file is empty"),
        ("list.json", "[1, 2]", "list.json: a JSON array is not supported"),
        ("other.json", '{"x": 1}', "other.json: JSON but neither SQuAD format"),
        ("gap.txt", "第一章\n1.一\n3.三\n", "gap.txt:3: paragraph 3 where 2 was expected"),
    ],
)
def test_malformed_input_names_file_and_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError) as err:
        load_corpus(path)
    assert message in str(err.value)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(CorpusError, match="no such file"):
        load_corpus(tmp_path / "nope.txt")
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\x7fELF\x02\x01\x00\x00garbage")
    with pytest.raises(CorpusError, match="blob.txt: a binary file of unknown type"):
        load_corpus(binary)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9 ol\xe9".encode("latin-1"))
    with pytest.raises(CorpusError, match="latin.txt: not UTF-8 text"):
        load_corpus(latin)


def test_plain_text_splits_on_blank_lines(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("第一段文字。\n\n第二段文字。\n", encoding="utf-8")
    assert [p.text for p in load_corpus(path)] == ["第一段文字。", "第二段文字。"]
