"""The letter of request as a PDF, made with fpdf2.

fpdf2 is pure Python (`pip install fpdf2 uharfbuzz`, nothing else): with
HarfBuzz text shaping, Khmer's stacked consonants and vowel signs come out
right, and the fonts shipped in `casebridge/fonts` are embedded, so the file
reads the same everywhere. Nanum Gothic carries Latin and Korean; Noto Sans
Khmer, which has no Latin letters, is the fallback for Khmer, so a letter
mixing the scripts (a Khmer letter quoting a Latin reference) renders whole.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from .mla_letter import Letter

FONTS = Path(__file__).resolve().parent / "static" / "casebridge" / "fonts"
MAIN, KHMER = "NanumGothic", "NotoSansKhmer"
FONT_FILES = {
    (MAIN, ""): "NanumGothic.ttf",
    (MAIN, "B"): "NanumGothicBold.ttf",
    (KHMER, ""): "NotoSansKhmer-Regular.ttf",
    (KHMER, "B"): "NotoSansKhmer-Bold.ttf",
}


class _LetterPDF(FPDF):
    def __init__(self, letter: Letter):
        super().__init__(format="A4")
        self.letter = letter
        for (family, style), filename in FONT_FILES.items():
            self.add_font(family, style, str(FONTS / filename))
        self.set_fallback_fonts([KHMER])
        self.set_text_shaping(True)
        self.set_margins(20, 20, 20)
        self.set_auto_page_break(True, margin=20)
        self.set_title(letter.title)
        self.set_lang(letter.language)

    def header(self) -> None:
        if not self.letter.draft:
            return
        # The DRAFT mark on every page, large and pale behind the text.
        self.set_font(MAIN, "B", 90)
        self.set_text_color(225, 225, 225)
        with self.rotation(35, x=self.w / 2, y=self.h / 2):
            self.set_xy(0, self.h / 2 - 20)
            self.cell(self.w, 40, self.letter.draft_mark, align="C")
        self.set_text_color(0, 0, 0)
        self.set_xy(self.l_margin, self.t_margin)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(MAIN, "", 8)
        self.set_text_color(110, 110, 110)
        mark = f"{self.letter.draft_mark} — " if self.letter.draft else ""
        self.cell(0, 8, f"{mark}{self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0, 0, 0)


def letter_pdf(letter: Letter) -> bytes:
    """The PDF bytes of `letter` (built by `cases.mla_letter.letter_of`)."""
    pdf = _LetterPDF(letter)
    pdf.alias_nb_pages()
    pdf.add_page()
    width = pdf.epw
    if letter.confidential:
        pdf.set_font(MAIN, "B", 10)
        pdf.set_text_color(150, 0, 0)
        pdf.multi_cell(width, 6, letter.confidential, border=1)
        pdf.set_text_color(0, 0, 0)
        pdf.ln(3)
    pdf.set_font(MAIN, "B", 15)
    pdf.multi_cell(width, 8, letter.title, align="C")
    pdf.ln(4)
    for label, value in letter.meta:
        pdf.set_font(MAIN, "B", 10)
        pdf.cell(45, 6, label)
        pdf.set_font(MAIN, "", 10)
        pdf.multi_cell(width - 45, 6, value)
    for number, section in enumerate(letter.sections, start=1):
        pdf.ln(3)
        pdf.set_font(MAIN, "B", 12)
        pdf.multi_cell(width, 7, f"{number}. {section.heading}")
        pdf.set_draw_color(150, 150, 150)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
        pdf.ln(1)
        pdf.set_font(MAIN, "", 10)
        for bullet in section.bullets:
            pdf.multi_cell(width, 6, f"• {bullet}")
        for paragraph in section.paragraphs:
            if paragraph:
                pdf.multi_cell(width, 6, paragraph)
                pdf.ln(1)
        for title, rows in section.specifics:
            pdf.set_font(MAIN, "B", 10)
            pdf.multi_cell(width, 6, title)
            for label, value in rows:
                pdf.set_font(MAIN, "B", 9)
                pdf.multi_cell(width, 5, label)
                pdf.set_font(MAIN, "", 9)
                pdf.set_x(pdf.l_margin + 5)
                pdf.multi_cell(width - 5, 5, value)
            pdf.ln(1)
    pdf.ln(10)
    pdf.set_font(MAIN, "", 10)
    for line in letter.signature:
        pdf.multi_cell(width, 6, line)
    for line in letter.signature_lines:
        pdf.ln(6)
        pdf.cell(45, 6, f"{line}:")
        pdf.cell(80, 6, "", border="B")
        pdf.ln(6)
    return bytes(pdf.output())
