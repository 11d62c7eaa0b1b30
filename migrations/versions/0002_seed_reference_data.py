"""Seed Egypt's 27 governorates and the starting list of volunteer skills.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 12:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# ISO 3166-2:EG code, Arabic name, English name, latitude and longitude of the capital.
GOVERNORATES = [
    ("EG-C", "القاهرة", "Cairo", 30.0444, 31.2357),
    ("EG-GZ", "الجيزة", "Giza", 30.0131, 31.2089),
    ("EG-ALX", "الإسكندرية", "Alexandria", 31.2001, 29.9187),
    ("EG-KB", "القليوبية", "Qalyubia", 30.4660, 31.1848),
    ("EG-SHR", "الشرقية", "Sharqia", 30.5877, 31.5020),
    ("EG-DK", "الدقهلية", "Dakahlia", 31.0409, 31.3785),
    ("EG-BH", "البحيرة", "Beheira", 31.0341, 30.4682),
    ("EG-GH", "الغربية", "Gharbia", 30.7865, 31.0004),
    ("EG-MNF", "المنوفية", "Monufia", 30.5972, 30.9876),
    ("EG-KFS", "كفر الشيخ", "Kafr El Sheikh", 31.1107, 30.9388),
    ("EG-DT", "دمياط", "Damietta", 31.4165, 31.8133),
    ("EG-PTS", "بورسعيد", "Port Said", 31.2653, 32.3019),
    ("EG-IS", "الإسماعيلية", "Ismailia", 30.5965, 32.2715),
    ("EG-SUZ", "السويس", "Suez", 29.9668, 32.5498),
    ("EG-FYM", "الفيوم", "Faiyum", 29.3084, 30.8428),
    ("EG-BNS", "بني سويف", "Beni Suef", 29.0661, 31.0994),
    ("EG-MN", "المنيا", "Minya", 28.1099, 30.7503),
    ("EG-AST", "أسيوط", "Asyut", 27.1800, 31.1837),
    ("EG-SHG", "سوهاج", "Sohag", 26.5591, 31.6957),
    ("EG-KN", "قنا", "Qena", 26.1551, 32.7160),
    ("EG-LX", "الأقصر", "Luxor", 25.6872, 32.6396),
    ("EG-ASN", "أسوان", "Aswan", 24.0889, 32.8998),
    ("EG-BA", "البحر الأحمر", "Red Sea", 27.2579, 33.8116),
    ("EG-WAD", "الوادي الجديد", "New Valley", 25.4390, 30.5586),
    ("EG-MT", "مطروح", "Matrouh", 31.3543, 27.2373),
    ("EG-SIN", "شمال سيناء", "North Sinai", 31.1316, 33.7984),
    ("EG-JS", "جنوب سيناء", "South Sinai", 28.2360, 33.6254),
]

SKILLS = [
    ("tutoring", "تدريس ومساعدة في المذاكرة", "Tutoring and homework help"),
    ("arabic_reading", "القراءة والكتابة بالعربية", "Arabic reading and writing"),
    ("english", "تعليم اللغة الإنجليزية", "English teaching"),
    ("music", "موسيقى وكورال", "Music and choir"),
    ("sports", "رياضة وتدريب بدني", "Sports and physical training"),
    ("arts_crafts", "فنون وأشغال يدوية", "Arts and crafts"),
    ("psychosocial", "دعم نفسي واجتماعي", "Psychosocial support"),
    ("first_aid", "إسعافات أولية", "First aid"),
    ("nursing_aid", "مساعدة تمريضية", "Nursing aid"),
    ("elderly_care", "رعاية كبار السن", "Elderly care"),
    ("sign_language", "لغة الإشارة", "Sign language"),
    ("physiotherapy", "علاج طبيعي", "Physiotherapy"),
    ("computer", "مهارات الحاسب الآلي", "Computer skills"),
    ("cooking", "طهي وتغذية", "Cooking and nutrition"),
]

governorate = sa.table(
    "governorate",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("name_ar", sa.String),
    sa.column("name_en", sa.String),
    sa.column("lat", sa.Float),
    sa.column("lon", sa.Float),
)
skill = sa.table(
    "skill",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("name_ar", sa.String),
    sa.column("name_en", sa.String),
    sa.column("active", sa.Boolean),
)


def upgrade():
    op.bulk_insert(
        governorate,
        [
            {"id": i, "code": code, "name_ar": ar, "name_en": en, "lat": lat, "lon": lon}
            for i, (code, ar, en, lat, lon) in enumerate(GOVERNORATES, start=1)
        ],
    )
    op.bulk_insert(
        skill,
        [
            {"id": i, "code": code, "name_ar": ar, "name_en": en, "active": True}
            for i, (code, ar, en) in enumerate(SKILLS, start=1)
        ],
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Explicit ids above; move the sequences past them so later inserts do not collide.
        op.execute("SELECT setval(pg_get_serial_sequence('governorate', 'id'), 27)")
        op.execute(f"SELECT setval(pg_get_serial_sequence('skill', 'id'), {len(SKILLS)})")


def downgrade():
    op.execute(skill.delete().where(skill.c.code.in_([code for code, _, _ in SKILLS])))
    op.execute(
        governorate.delete().where(governorate.c.code.in_([code for code, *_ in GOVERNORATES]))
    )
