"""A certificate snapshot as a PDF: fpdf2 with HarfBuzz shaping and the fonts in web/fonts."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from flask_babel import force_locale, format_date, format_decimal
from flask_babel import gettext as _
from fpdf import FPDF

FONTS = Path(__file__).resolve().parent / "fonts"
# The family used for each language's text, the other one as a fallback for mixed text.
FAMILIES = {"ar": ("naskh", "sans"), "en": ("sans", "naskh")}


def hours_text(minutes: int) -> str:
    """Minutes as hours with at most one decimal, in the active locale (e.g. 12.5)."""
    return format_decimal(round(minutes / 60, 1), format="#,##0.#")


def _day(value: str | None) -> str:
    return format_date(date.fromisoformat(value), "long") if value else ""


def _name(names: dict[str, str], language: str) -> str:
    return (names.get(language) or names.get("en") or names.get("ar") or "").strip()


class _Certificate(FPDF):
    def __init__(self, language: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.language = language
        self.rtl = language == "ar"
        self.align = "R" if self.rtl else "L"
        self.set_margins(22, 22, 22)
        self.set_auto_page_break(True, margin=22)
        self.add_font("naskh", "", str(FONTS / "NotoNaskhArabic-Regular.ttf"))
        self.add_font("naskh", "B", str(FONTS / "NotoNaskhArabic-Bold.ttf"))
        self.add_font("sans", "", str(FONTS / "NotoSans-Regular.ttf"))
        self.add_font("sans", "B", str(FONTS / "NotoSans-Bold.ttf"))
        family, fallback = FAMILIES[language]
        self.family_name = family
        self.set_fallback_fonts([fallback])
        self.set_text_shaping(
            use_shaping_engine=True,
            direction="rtl" if self.rtl else "ltr",
            script="arab" if self.rtl else "latn",
            language="ara" if self.rtl else "eng",
        )

    def frame(self) -> None:
        self.set_draw_color(40, 90, 120)
        self.set_line_width(1.2)
        self.rect(10, 10, self.w - 20, self.h - 20)
        self.set_line_width(0.3)
        self.rect(13, 13, self.w - 26, self.h - 26)

    def line_of(
        self,
        text: str,
        size: float,
        *,
        bold: bool = False,
        gap: float = 2,
        align: str | None = None,
    ) -> None:
        self.set_font(self.family_name, "B" if bold else "", size)
        self.multi_cell(
            0, size * 0.55, text, align=align or self.align, new_x="LMARGIN", new_y="NEXT"
        )
        self.ln(gap)


def render(snapshot: dict[str, Any], language: str, code: str, verify_url: str) -> bytes:
    """The certificate as PDF bytes, every word in ``language`` (Arabic right to left)."""
    with force_locale(language):
        pdf = _Certificate(language)
        pdf.set_title(_("Certificate of volunteering"))
        pdf.set_lang(language)
        pdf.set_creator("volunteer-matching")
        pdf.add_page()
        pdf.frame()
        pdf.ln(8)
        pdf.line_of(_("Certificate of volunteering"), 26, bold=True, gap=8, align="C")
        pdf.line_of(_("This certifies that"), 14)
        pdf.line_of(snapshot["name"], 22, bold=True, gap=4)
        pdf.line_of(_("gave their time as a volunteer with care institutions."), 14, gap=6)
        pdf.line_of(
            _("Total hours: %(hours)s", hours=hours_text(snapshot["minutes"])), 14, bold=True
        )
        pdf.line_of(_("Shifts: %(count)s", count=format_decimal(snapshot["shifts"])), 14)
        pdf.line_of(
            _(
                "Period: from %(first)s to %(last)s",
                first=_day(snapshot["first_day"]),
                last=_day(snapshot["last_day"]),
            ),
            14,
            gap=6,
        )
        for title, names in (
            (_("Programmes"), snapshot.get("programmes") or []),
            (_("Institutions served"), snapshot.get("institutions") or []),
            (_("Activities"), snapshot.get("opportunities") or []),
        ):
            if not names:
                continue
            pdf.line_of(title, 14, bold=True, gap=1)
            for names_of in names:
                pdf.line_of("• " + _name(names_of, language), 12, gap=0)
            pdf.ln(5)
        pdf.line_of(_("Issued on %(day)s", day=_day(snapshot["issued_on"])), 12, gap=6)
        pdf.line_of(_("Verification code: %(code)s", code=code), 13, bold=True)
        pdf.line_of(_("Check this certificate at:"), 11, gap=0)
        pdf.line_of(verify_url, 10)
        return bytes(pdf.output())
