"""sentences(): character spans of the sentences of a paragraph, in all five languages."""
from __future__ import annotations

import pytest

from kiosk.education import sentences
from kiosk.education.sentences import sentence_texts


@pytest.mark.parametrize("language, paragraph, expected", [
    ("en", "Dr. Lee will see you at 3 p.m. today. Take 1.5 pills. Then rest!",
     ["Dr. Lee will see you at 3 p.m. today.", "Take 1.5 pills.", "Then rest!"]),
    ("en", "Is it high? Call us. Mrs. Diaz and Mr. Ng are nurses.",
     ["Is it high?", "Call us.", "Mrs. Diaz and Mr. Ng are nurses."]),
    ("en", "1. Wash your hands. 2. Dry them. Say no. Go home.",
     ["1. Wash your hands.", "2. Dry them.", "Say no.", "Go home."]),
    ("en", 'He said "Stop." Then he left... and came back. See www.example.org for more. Done',
     ['He said "Stop."', "Then he left... and came back.", "See www.example.org for more.", "Done"]),
    ("en", "Bring juice, milk, etc. to the visit. Take vitamin D. It helps.",
     ["Bring juice, milk, etc. to the visit.", "Take vitamin D.", "It helps."]),
    ("es", "La Dra. Ruiz lo verá. ¿Tiene fiebre? ¡Llame hoy! Tome 2.5 ml, p. ej. con agua. Fin.",
     ["La Dra. Ruiz lo verá.", "¿Tiene fiebre?", "¡Llame hoy!", "Tome 2.5 ml, p. ej. con agua.", "Fin."]),
    ("es", "El Sr. Pérez vive en EE. UU. desde 1990. «¿Viene hoy?», preguntó. Sí.",
     ["El Sr. Pérez vive en EE. UU. desde 1990.", "«¿Viene hoy?», preguntó.", "Sí."]),
    ("zh", "请带上您的药物清单。如果有问题，请问医生！您今天感觉怎么样？体温37.5度。",
     ["请带上您的药物清单。", "如果有问题，请问医生！", "您今天感觉怎么样？", "体温37.5度。"]),
    ("zh", "他说：“请坐。”然后离开了。没有句号的结尾", ["他说：“请坐。”", "然后离开了。", "没有句号的结尾"]),
    ("vi", "BS. Lan sẽ khám cho quý vị. Huyết áp 120/80 là bình thường. Quý vị có sốt không?",
     ["BS. Lan sẽ khám cho quý vị.", "Huyết áp 120/80 là bình thường.", "Quý vị có sốt không?"]),
    ("vi", "Uống 1.5 viên. Đừng quên!", ["Uống 1.5 viên.", "Đừng quên!"]),
    ("ar", "مرحبا بك. هل لديك حمى؟ خذ 1.5 حبة كل يوم. د. أحمد سيراك.",
     ["مرحبا بك.", "هل لديك حمى؟", "خذ 1.5 حبة كل يوم.", "د. أحمد سيراك."]),
    ("ar", "اغسل يديك، ثم جففهما! هل فهمت؟نعم.", ["اغسل يديك، ثم جففهما!", "هل فهمت؟", "نعم."]),
])
def test_sentences(language, paragraph, expected):
    assert sentence_texts(paragraph, language) == expected


@pytest.mark.parametrize("paragraph", ["", "   ", "\n"])
def test_nothing_to_split(paragraph):
    assert sentences(paragraph, "en") == []


def test_spans_are_trimmed_ordered_and_cover_every_word():
    paragraph = "  First one.   Second one?\nThird — no end  "
    spans = sentences(paragraph, "en")
    assert spans == [(2, 12), (15, 26), (27, 27 + len("Third — no end"))]
    assert all(paragraph[s] != " " and paragraph[e - 1] != " " for s, e in spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    assert " ".join(paragraph[s:e] for s, e in spans).split() == paragraph.split()


def test_a_regional_language_tag_uses_its_language():
    assert sentence_texts("La Dra. Ruiz. Hola.", "es-MX") == ["La Dra. Ruiz.", "Hola."]
