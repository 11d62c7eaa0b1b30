"""The demo data set: institutions, opportunities, two weeks of shifts, volunteers and staff."""

from __future__ import annotations

import io
import logging
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from web import demo_history
from web.extensions import db
from web.models import (
    Assignment,
    AvailabilityRule,
    CredentialType,
    Governorate,
    Institution,
    MatchingSchedule,
    Opportunity,
    OpportunityInterest,
    Shift,
    ShiftSeries,
    ShiftSkillRequirement,
    Skill,
    UploadedFile,
    User,
    VolunteerCredential,
    VolunteerProfile,
    utcnow,
)

log = logging.getLogger(__name__)

SEED = 20261126
ZONE = "Africa/Cairo"
DAYS = 14
VOLUNTEERS = 60
DOMAIN = "demo.example.org"
MARKER_EMAIL = f"admin@{DOMAIN}"  # written last: its presence means the data set is complete
# Rows of these tables come from the migrations and survive a reset.
REFERENCE_TABLES = frozenset({"governorate", "skill", "credential_type", "alembic_version"})

PASSWORDS = {
    "volunteer": "volunteer-2026",
    "manager": "manager-2026",
    "coordinator": "coordinator-2026",
    "admin": "admin-2026",
}


@dataclass(frozen=True)
class DemoLogin:
    """A demo account to print: what it shows, how to log in."""

    role: str
    description: str
    email: str
    phone: str
    password: str


@dataclass(frozen=True)
class DemoSummary:
    """What ``load`` did: whether it created the data, and the counts and logins."""

    created: bool
    institutions: int
    opportunities: int
    shifts: int
    volunteers: int
    assignments: int
    logins: list[DemoLogin]


# code, kind, governorate, Arabic name, English name, Arabic address, English address, lat, lon,
# opportunity templates, gender rule for every shift (None = per template)
INSTITUTIONS = [
    ("amal", "orphanage", "EG-C", "دار الأمل لرعاية الأيتام", "Dar Al Amal Orphanage",
     "١٢ شارع الثورة، مصر الجديدة، القاهرة", "12 El Thawra Street, Heliopolis, Cairo",
     30.0911, 31.3262, ("tutoring", "sports"), None),
    ("zamalek", "elderly_home", "EG-C", "دار المسنين بالزمالك", "Zamalek Home for the Elderly",
     "٢٠ شارع حسن صبري، الزمالك، القاهرة", "20 Hassan Sabry Street, Zamalek, Cairo",
     30.0626, 31.2197, ("companionship", "physiotherapy"), None),
    ("nour", "disability_centre", "EG-C", "مركز النور للأطفال ذوي الإعاقة",
     "Al Nour Centre for Children with Disabilities",
     "٨ شارع مكرم عبيد، مدينة نصر، القاهرة", "8 Makram Ebeid Street, Nasr City, Cairo",
     30.0587, 31.3379, ("arts", "psychosocial"), None),
    ("rahma", "orphanage", "EG-GZ", "جمعية بيت الرحمة للأيتام", "Beit Al Rahma Orphan Society",
     "٣٣ شارع التحرير، الدقي، الجيزة", "33 El Tahrir Street, Dokki, Giza",
     30.0385, 31.2107, ("tutoring", "choir"), None),
    ("saada", "elderly_home", "EG-GZ", "دار السعادة للمسنين بالهرم", "Al Saada Elderly Home, Haram",
     "١٥ شارع الهرم، الجيزة", "15 El Haram Street, Giza",
     29.9934, 31.1580, ("companionship",), None),
    ("hanan", "orphanage", "EG-ALX", "دار الحنان لرعاية الفتيات", "Dar Al Hanan Home for Girls",
     "٤ شارع سوريا، رشدي، الإسكندرية", "4 Syria Street, Roushdy, Alexandria",
     31.2270, 29.9570, ("english", "choir"), "female"),
    ("amal_rehab", "disability_centre", "EG-ALX", "مركز الأمل للتأهيل",
     "Al Amal Rehabilitation Centre",
     "٢٧ شارع فوزي معاذ، سموحة، الإسكندرية", "27 Fawzy Moaz Street, Smouha, Alexandria",
     31.2068, 29.9440, ("physiotherapy", "arts"), None),
    ("wafaa", "elderly_home", "EG-ALX", "دار الوفاء للمسنين", "Dar Al Wafaa Elderly Home",
     "١٠ شارع جمال عبد الناصر، ميامي، الإسكندرية",
     "10 Gamal Abdel Nasser Street, Miami, Alexandria",
     31.2689, 30.0016, ("companionship",), None),
    ("birr", "orphanage", "EG-KB", "دار البر لرعاية الأيتام ببنها", "Dar Al Birr Orphanage, Banha",
     "شارع فريد ندا، بنها، القليوبية", "Farid Nada Street, Banha, Qalyubia",
     30.4626, 31.1817, ("tutoring", "sports"), "male"),
    ("rajaa", "disability_centre", "EG-DK", "مركز الرجاء لذوي الاحتياجات الخاصة",
     "Al Rajaa Centre for Special Needs",
     "شارع الجمهورية، المنصورة، الدقهلية", "El Gomhoria Street, Mansoura, Dakahlia",
     31.0418, 31.3807, ("psychosocial", "physiotherapy"), None),
    ("tofoula", "other", "EG-DK", "جمعية رعاية الطفولة بالمنصورة", "Mansoura Child Welfare Society",
     "شارع الجلاء، المنصورة، الدقهلية", "El Galaa Street, Mansoura, Dakahlia",
     31.0443, 31.3650, ("english",), None),
    ("safa", "orphanage", "EG-AST", "دار الصفا لرعاية الأيتام بأسيوط",
     "Dar Al Safa Orphanage, Asyut",
     "شارع يسري راغب، أسيوط", "Yousri Ragheb Street, Asyut",
     27.1823, 31.1826, ("tutoring", "choir"), None),
    ("shabab", "other", "EG-AST", "جمعية الشباب للخدمة المجتمعية",
     "Youth Association for Community Service",
     "شارع الجمهورية، أسيوط", "El Gomhoria Street, Asyut",
     27.1770, 31.1890, ("arts",), None),
]  # fmt: skip

# Opportunity templates: texts (ar, en), skills, time slot, places, reserved places, rules.
TEMPLATES: dict[str, dict] = {
    "tutoring": {
        "title": ("دروس تقوية في الرياضيات واللغة العربية", "Maths and Arabic tutoring"),
        "description": (
            "ساعد أطفال الدار في واجباتهم المدرسية في الرياضيات والقراءة.\n"
            "الأطفال من سن ٨ إلى ١٤ سنة، وكثير منهم متأخر دراسيًا ويحتاج إلى اهتمام فردي.\n"
            "ساعتان أسبوعيًا مع نفس المجموعة تصنع فرقًا حقيقيًا في نتائجهم وثقتهم بأنفسهم.",
            "Help the children with their school homework in maths and reading.\n"
            "They are 8 to 14 years old; many are behind at school and need one-to-one attention.\n"
            "Two hours a week with the same group make a real difference to their marks and "
            "their confidence.",
        ),
        "requirements": (
            "صبر وحب للأطفال. خبرة في التدريس ميزة وليست شرطًا.",
            "Patience and a liking for children. Teaching experience helps but is not required.",
        ),
        "commitment": (
            "ساعتان أسبوعيًا لمدة شهرين على الأقل.",
            "Two hours a week for at least two months.",
        ),
        "skills": ("tutoring", "arabic_reading"),
        "slot": ("16:00", "18:00"),
        "needed": 4,
        "reserve": {"tutoring": 1},
        "min_age": 18,
    },
    "english": {
        "title": ("نادي المحادثة باللغة الإنجليزية", "English conversation club"),
        "description": (
            "جلسات محادثة وألعاب باللغة الإنجليزية لفتيات وفتيان في المرحلة الإعدادية.\n"
            "الهدف أن يتكلموا بثقة وأن يستعدوا لامتحاناتهم.",
            "Conversation sessions and games in English for girls and boys at preparatory school.\n"
            "The aim is that they speak with confidence and get ready for their exams.",
        ),
        "requirements": (
            "إجادة اللغة الإنجليزية تحدثًا.",
            "Good spoken English.",
        ),
        "commitment": ("مرة أسبوعيًا.", "Once a week."),
        "skills": ("english",),
        "slot": ("17:00", "19:00"),
        "needed": 3,
        "reserve": {"english": 1},
        "min_age": 18,
    },
    "choir": {
        "title": ("كورال الأطفال", "Children's choir"),
        "description": (
            "بروفات كورال أسبوعية استعدادًا لحفل نهاية العام.\n"
            "الغناء الجماعي يقوي ثقة الأطفال بأنفسهم ويجمعهم على شيء جميل.",
            "Weekly choir rehearsals for the end-of-year concert.\n"
            "Singing together builds the children's confidence and gives them something "
            "beautiful to share.",
        ),
        "requirements": (
            "مكان واحد محجوز لعازف أو مدرب موسيقى؛ الباقي للمساعدة في التنظيم.",
            "One place is kept for a musician or choir trainer; the others help run the session.",
        ),
        "commitment": ("بروفة أسبوعية لمدة ساعتين.", "A two-hour rehearsal every week."),
        "skills": ("music",),
        "slot": ("17:00", "19:00"),
        "needed": 5,
        "reserve": {"music": 1},
        "min_age": 16,
    },
    "sports": {
        "title": ("كرة القدم والألعاب الرياضية", "Football and sports afternoon"),
        "description": (
            "تنظيم مباريات وتمارين رياضية لأولاد الدار في الملعب المجاور.\n"
            "الرياضة تفرغ طاقتهم وتعلمهم روح الفريق.",
            "Organise matches and exercises for the boys on the nearby pitch.\n"
            "Sport burns their energy and teaches them team spirit.",
        ),
        "requirements": (
            "لياقة بدنية جيدة. معرفة بالإسعافات الأولية ميزة.",
            "Good fitness. First aid knowledge is welcome.",
        ),
        "commitment": ("عصر يوم في الأسبوع.", "One afternoon a week."),
        "skills": ("sports", "first_aid"),
        "slot": ("15:00", "17:00"),
        "needed": 4,
        "reserve": {},
        "min_age": 18,
        "gender": "male",
    },
    "companionship": {
        "title": ("زيارات ومؤانسة كبار السن", "Companionship visits for elders"),
        "description": (
            "اقضِ وقتًا مع المقيمين: حديث، قراءة الجريدة، لعب الطاولة أو نزهة في الحديقة.\n"
            "كثير من المقيمين لا يزورهم أحد، والزيارة المنتظمة تخفف وحدتهم.",
            "Spend time with the residents: talk, read the newspaper, play backgammon or walk "
            "in the garden.\n"
            "Many residents have no visitors; a regular visit eases their loneliness.",
        ),
        "requirements": (
            "لطف وقدرة على الإصغاء. السن ٢١ سنة فأكثر.",
            "Kindness and a good ear. Aged 21 or more.",
        ),
        "commitment": ("ثلاث ساعات أسبوعيًا.", "Three hours a week."),
        "skills": ("elderly_care",),
        "slot": ("10:00", "13:00"),
        "needed": 4,
        "reserve": {},
        "min_age": 21,
    },
    "psychosocial": {
        "title": ("جلسات دعم نفسي واجتماعي", "Psychosocial support sessions"),
        "description": (
            "جلسات أنشطة جماعية للتعبير عن المشاعر بإشراف أخصائي الدار.\n"
            "تساعد الأطفال الذين مروا بتجارب صعبة على الشعور بالأمان.",
            "Group activity sessions for expressing feelings, supervised by the centre's "
            "specialist.\n"
            "They help children who went through hard times feel safe.",
        ),
        "requirements": (
            "مكان محجوز لمتطوع لديه تدريب في الدعم النفسي. السن ٢٣ سنة فأكثر.",
            "One place is kept for a volunteer trained in psychosocial support. Aged 23 or more.",
        ),
        "commitment": ("جلسة أسبوعية لمدة شهر على الأقل.", "A weekly session for a month or more."),
        "skills": ("psychosocial",),
        "slot": ("11:00", "13:00"),
        "needed": 3,
        "reserve": {"psychosocial": 1},
        "min_age": 23,
    },
    "physiotherapy": {
        "title": ("مساعدة في جلسات العلاج الطبيعي", "Helping in physiotherapy sessions"),
        "description": (
            "مساعدة أخصائي العلاج الطبيعي في التمارين اليومية وتحريك المقيمين.\n"
            "التمرين المنتظم يحفظ حركتهم واستقلالهم.",
            "Help the physiotherapist with the daily exercises and with moving residents.\n"
            "Regular exercise keeps them mobile and independent.",
        ),
        "requirements": (
            "مكان محجوز لطالب أو خريج علاج طبيعي؛ الباقي للمساعدة تحت الإشراف.",
            "One place is kept for a physiotherapy student or graduate; the others help under "
            "supervision.",
        ),
        "commitment": ("صباح يوم في الأسبوع.", "One morning a week."),
        "skills": ("physiotherapy", "nursing_aid"),
        "slot": ("09:30", "12:30"),
        "needed": 3,
        "reserve": {"physiotherapy": 1},
        "min_age": 18,
    },
    "arts": {
        "title": ("ورشة فنون وأشغال يدوية", "Arts and crafts workshop"),
        "description": (
            "رسم وتلوين وأشغال يدوية بخامات بسيطة.\n"
            "الفن وسيلة تعبير لمن يصعب عليهم الكلام، وفرصة لصنع شيء يفخرون به.",
            "Drawing, painting and crafts with simple materials.\n"
            "Art is a way to express oneself when words are hard, and a chance to make "
            "something to be proud of.",
        ),
        "requirements": ("حب للفن وصبر.", "A love of art and patience."),
        "commitment": ("ساعتان ونصف أسبوعيًا.", "Two and a half hours a week."),
        "skills": ("arts_crafts", "sign_language"),
        "slot": ("16:00", "18:30"),
        "needed": 3,
        "reserve": {},
        "min_age": 16,
    },
}

FEMALE = [
    ("منى", "Mona"), ("سارة", "Sara"), ("نور", "Nour"), ("ياسمين", "Yasmin"), ("هبة", "Heba"),
    ("مريم", "Mariam"), ("فاطمة", "Fatma"), ("دينا", "Dina"), ("رحاب", "Rehab"), ("آية", "Aya"),
    ("سلمى", "Salma"), ("إيمان", "Eman"), ("نهى", "Noha"), ("شيماء", "Shaimaa"), ("ريم", "Reem"),
]  # fmt: skip
MALE = [
    ("أحمد", "Ahmed"), ("محمد", "Mohamed"), ("عمر", "Omar"), ("يوسف", "Youssef"), ("كريم", "Karim"),
    ("مصطفى", "Mostafa"), ("خالد", "Khaled"), ("حسن", "Hassan"), ("إبراهيم", "Ibrahim"),
    ("طارق", "Tarek"), ("مينا", "Mina"), ("بيتر", "Peter"), ("عمرو", "Amr"), ("سامح", "Sameh"),
    ("وليد", "Walid"),
]  # fmt: skip
FAMILY = [
    ("عبد الرحمن", "Abdelrahman"), ("حسين", "Hussein"), ("السيد", "El Sayed"), ("فؤاد", "Fouad"),
    ("منصور", "Mansour"), ("جرجس", "Girgis"), ("الشريف", "El Sherif"), ("عادل", "Adel"),
    ("نصر", "Nasr"), ("سليمان", "Soliman"), ("رزق", "Rizk"), ("فهمي", "Fahmy"), ("كامل", "Kamel"),
    ("عثمان", "Osman"), ("حنا", "Hanna"),
]  # fmt: skip
SKILL_POOL = (
    "tutoring", "arabic_reading", "english", "music", "sports", "arts_crafts", "psychosocial",
    "first_aid", "nursing_aid", "elderly_care", "sign_language", "physiotherapy", "computer",
)  # fmt: skip
# Weekly availability patterns (weekday 0 = Monday, local time).
PATTERNS = [
    ("evenings", [(d, "15:00", "21:00") for d in (6, 0, 1, 2, 3)]),
    ("mornings", [(d, "09:00", "14:00") for d in (6, 0, 1, 2, 3)]),
    ("weekend", [(d, "09:00", "21:00") for d in (4, 5)]),
    ("mixed", [(5, "09:00", "21:00"), (1, "15:00", "21:00"), (3, "09:00", "14:00")]),
    ("flexible", [(d, "09:00", "21:00") for d in range(7)]),
]
MANAGERS = [
    ("هالة إبراهيم", "Hala Ibrahim"), ("سمير عبد الله", "Samir Abdallah"),
    ("نادية فوزي", "Nadia Fawzy"), ("عادل مرقص", "Adel Morcos"), ("ليلى حامد", "Laila Hamed"),
    ("جمال السيد", "Gamal El Sayed"), ("عزة محمود", "Azza Mahmoud"), ("رامي نجيب", "Ramy Naguib"),
    ("سهير عثمان", "Soheir Osman"), ("مجدي حلمي", "Magdy Helmy"), ("أمل كامل", "Amal Kamel"),
    ("حسام الدين علي", "Hossam Eldin Ali"),
]  # fmt: skip


def is_loaded() -> bool:
    """Whether the demo data is already in the database (its admin account exists)."""
    return db.session.scalar(sa.select(User.id).where(User.email == MARKER_EMAIL)) is not None


def has_accounts() -> bool:
    """Whether the database holds any account (someone's data, or an unfinished demo load)."""
    return db.session.scalar(sa.select(User.id).limit(1)) is not None


def wipe() -> None:
    """Delete every row but the reference data the migrations seed (governorates, skills).

    The nightly national run the migrations also seed is put back as they wrote it, so a reset
    demo still has its nightly schedule.
    """
    db.session.rollback()
    from web.services.uploads import path_of

    for upload in db.session.scalars(sa.select(UploadedFile)):
        path_of(upload).unlink(missing_ok=True)  # the files of the rows about to go
    tables = [t for t in db.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(tables):
            connection.execute(table.delete())
    db.session.add(
        MatchingSchedule(
            name="Nightly national run",
            scope_kind="national",
            scope_ids=[],
            hour=2,
            minute=0,
            timezone=ZONE,
            window_days=7,
            time_limit_s=60.0,
            auto_publish=False,
            enabled=True,
        )
    )
    db.session.commit()


def logins() -> list[DemoLogin]:
    """The demo accounts to show on the console, one or two per role."""
    return [
        DemoLogin(
            "volunteer", "a volunteer in Cairo", f"volunteer1@{DOMAIN}", _phone(1, 1),
            PASSWORDS["volunteer"],
        ),
        DemoLogin(
            "manager", "manages two Cairo institutions", f"manager1@{DOMAIN}", _phone(2, 1),
            PASSWORDS["manager"],
        ),
        DemoLogin(
            "coordinator", "national coordinator", f"coordinator@{DOMAIN}", _phone(3, 1),
            PASSWORDS["coordinator"],
        ),
        DemoLogin(
            "coordinator", "Cairo-only coordinator", f"cairo.coordinator@{DOMAIN}",
            _phone(3, 2), PASSWORDS["coordinator"],
        ),
        DemoLogin("admin", "administrator", MARKER_EMAIL, _phone(3, 3), PASSWORDS["admin"]),
    ]  # fmt: skip


def _phone(group: int, n: int) -> str:
    """Valid Egyptian mobile numbers reserved to the demo: +20 100 <group> <6 digits>."""
    return f"+20100{group}{n:06d}"


def _demo_hash(password: str) -> str:
    """A quick hash: the demo passwords are printed on the console, so slow hashing buys nothing."""
    return generate_password_hash(password, method="pbkdf2:sha256:20000")


def _local(day: date, at: str, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.fromisoformat(at), tzinfo=zone).astimezone(UTC)


def load(now: datetime | None = None) -> DemoSummary:
    """Load the demo data once; a second call finds it and changes nothing."""
    now = now or utcnow()
    if is_loaded():
        return _summary(created=False)
    builder = _Builder(random.Random(SEED), now)
    builder.build()
    return _summary(created=True)


def _summary(created: bool) -> DemoSummary:
    def count(model: type) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0

    volunteers = db.session.scalar(
        sa.select(sa.func.count()).select_from(User).where(User.role == "volunteer")
    )
    return DemoSummary(
        created=created,
        institutions=count(Institution),
        opportunities=count(Opportunity),
        shifts=count(Shift),
        volunteers=volunteers or 0,
        assignments=count(Assignment),
        logins=logins(),
    )


class _Builder:
    """Builds the data set step by step with one seeded random generator."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.zone = ZoneInfo(ZONE)
        self.today = now.astimezone(self.zone).date()
        self.hashes = {role: _demo_hash(pw) for role, pw in PASSWORDS.items()}
        self.governorates = {g.code: g for g in db.session.scalars(sa.select(Governorate))}
        self.skills = {s.code: s for s in db.session.scalars(sa.select(Skill))}
        self.institutions: list[Institution] = []
        self.shifts: list[Shift] = []
        self.volunteers: list[User] = []

    def _user(self, role: str, full_name: str, email: str, phone: str, **kw: object) -> User:
        user = User(
            full_name=full_name,
            email=email,
            phone=phone,
            phone_verified=True,
            role=role,
            password_hash=self.hashes[role],
            **kw,
        )
        db.session.add(user)
        return user

    def build(self) -> None:
        self.staff()
        self.build_institutions()
        self.build_opportunities()
        self.build_volunteers()
        self.credentials()
        self.sign_ups()
        self.interests()
        self.attendance()
        self.programmes()
        self.try_it_today()
        demo_history.build(self.now, ZONE, SEED)  # past weeks for the dashboards
        # The admin account marks a complete data set, so it is written last.
        self._user("admin", "مدير النظام", MARKER_EMAIL, _phone(3, 3), locale="en")
        db.session.commit()

    def staff(self) -> None:
        self._user(
            "coordinator",
            "Dalia Farouk",
            f"coordinator@{DOMAIN}",
            _phone(3, 1),
            national_scope=True,
            locale="en",
        )
        cairo = self._user(
            "coordinator", "شريف منير", f"cairo.coordinator@{DOMAIN}", _phone(3, 2), locale="ar"
        )
        cairo.governorates.append(self.governorates["EG-C"])

    def build_institutions(self) -> None:
        managers = [
            self._user(
                "manager",
                name_ar if i % 2 == 0 else name_en,
                f"manager{i + 1}@{DOMAIN}",
                _phone(2, i + 1),
                locale="ar" if i % 2 == 0 else "en",
            )
            for i, (name_ar, name_en) in enumerate(MANAGERS)
        ]
        for i, row in enumerate(INSTITUTIONS):
            _code, kind, gov, name_ar, name_en, addr_ar, addr_en, lat, lon, _templates, _g = row
            institution = Institution(
                kind=kind,
                governorate=self.governorates[gov],
                name_ar=name_ar,
                name_en=name_en,
                address_ar=addr_ar,
                address_en=addr_en,
                lat=lat,
                lon=lon,
                timezone=ZONE,
                phone=f"+2023{i + 1:07d}" if gov in ("EG-C", "EG-GZ") else None,
            )
            # The first manager runs two Cairo homes; the others one each.
            institution.managers.append(managers[0] if i < 2 else managers[i - 1])
            db.session.add(institution)
            self.institutions.append(institution)

    def build_opportunities(self) -> None:
        db.session.flush()
        manager_of = {inst.id: inst.managers[0] for inst in self.institutions}
        serial = 0
        for institution, row in zip(self.institutions, INSTITUTIONS, strict=True):
            templates, gender_rule = row[9], row[10]
            for code in templates:
                template = TEMPLATES[code]
                opportunity = Opportunity(
                    institution=institution,
                    title_ar=template["title"][0],
                    title_en=template["title"][1],
                    description_ar=template["description"][0],
                    description_en=template["description"][1],
                    requirements_ar=template["requirements"][0],
                    requirements_en=template["requirements"][1],
                    commitment_ar=template["commitment"][0],
                    commitment_en=template["commitment"][1],
                    status="open",
                    created_by=manager_of[institution.id],
                    skills=[self.skills[s] for s in template["skills"]],
                )
                db.session.add(opportunity)
                gender = gender_rule or template.get("gender", "any")
                self._shifts_for(opportunity, template, gender, weekly=serial % 2 == 0)
                serial += 1

    def _shifts_for(
        self, opportunity: Opportunity, template: dict, gender: str, weekly: bool
    ) -> None:
        """Two shifts a week on two weekdays for two weeks; every other opportunity as series."""
        start, end = template["slot"]
        first_days = sorted(self.rng.sample(range(7), 2))
        for offset in first_days:
            first_day = self.today + timedelta(days=offset)
            series = None
            if weekly:
                series = ShiftSeries(
                    opportunity=opportunity,
                    first_day=first_day,
                    weeks=DAYS // 7,
                    start_time=time.fromisoformat(start),
                    end_time=time.fromisoformat(end),
                    excluded_days=[],
                )
                db.session.add(series)
            for week in range(DAYS // 7):
                day = first_day + timedelta(weeks=week)
                needed = template["needed"] + self.rng.choice((0, 0, 1, 2))
                reserve = template["reserve"]
                shift = Shift(
                    opportunity=opportunity,
                    institution=opportunity.institution,
                    series=series,
                    starts_at=_local(day, start, self.zone),
                    ends_at=_local(day, end, self.zone),
                    needed=needed,
                    open_places=needed - sum(reserve.values()),
                    open_taken=0,
                    gender=gender,
                    min_age=template["min_age"],
                    priority=self.rng.choice((1, 1, 2, 3)),
                    languages=[],
                    status="open",
                )
                for skill_code, places in reserve.items():
                    shift.requirements.append(
                        ShiftSkillRequirement(skill=self.skills[skill_code], places=places)
                    )
                db.session.add(shift)
                self.shifts.append(shift)

    def build_volunteers(self) -> None:
        rng = self.rng
        for n in range(1, VOLUNTEERS + 1):
            gender = "female" if n % 2 == 1 else "male"
            first = rng.choice(FEMALE if gender == "female" else MALE)
            family = rng.choice(FAMILY)
            english = n % 3 == 0
            name = f"{first[1]} {family[1]}" if english else f"{first[0]} {family[0]}"
            # Volunteer 1 (the printed login) lives in Cairo, near Dar Al Amal.
            home = self.institutions[0] if n == 1 else rng.choice(self.institutions)
            age = 24 if n == 1 else rng.randint(18, 60)
            user = self._user(
                "volunteer",
                name,
                f"volunteer{n}@{DOMAIN}",
                _phone(1, n),
                locale="en" if english else None,
            )
            profile = VolunteerProfile(
                user=user,
                gender=gender,
                date_of_birth=date(self.today.year - age, rng.randint(1, 12), rng.randint(1, 28)),
                governorate=home.governorate,
                home_lat=round(home.lat + rng.uniform(-0.05, 0.05), 5),
                home_lon=round(home.lon + rng.uniform(-0.05, 0.05), 5),
                travel_radius_km=25.0 if n == 1 else float(rng.choice((8, 10, 15, 20, 30))),
                max_shifts_per_week=rng.choice((None, 2, 3)),
                max_hours_per_week=rng.choice((None, None, 8.0)),
                languages=["ar", "en"] if english or rng.random() < 0.3 else ["ar"],
                timezone=ZONE,
                sms_consent=rng.random() < 0.8,
                skills=[self.skills[c] for c in sorted(rng.sample(SKILL_POOL, rng.randint(1, 3)))],
            )
            pattern = PATTERNS[4] if n == 1 else rng.choice(PATTERNS)
            for weekday, start, end in pattern[1]:
                profile.availability_rules.append(
                    AvailabilityRule(
                        weekday=weekday,
                        start_time=time.fromisoformat(start),
                        end_time=time.fromisoformat(end),
                    )
                )
            db.session.add(profile)
            self.volunteers.append(user)

    def credentials(self) -> None:
        """Accreditation to try: volunteer 1 holds a verified first-aid certificate and a child
        safeguarding training waiting for verification; the first opportunity of Dar Al Amal needs
        that training and its second the first-aid certificate; a quarter of the other volunteers
        near Cairo hold both, verified; one first-aid certificate expires within the month."""
        from web.services import uploads

        db.session.flush()
        types = {t.code: t for t in db.session.scalars(sa.select(CredentialType))}
        reviewer = db.session.scalar(sa.select(User).where(User.email == f"coordinator@{DOMAIN}"))
        home = self.institutions[0]
        guarded = sorted({s.opportunity for s in self.shifts if s.institution is home}, key=id)
        guarded.sort(key=lambda o: o.title_en)
        for opportunity, code in zip(guarded, ("child_safeguarding", "first_aid"), strict=False):
            for shift in self.shifts:
                if shift.opportunity is opportunity:
                    shift.required_credentials = [types[code]]

        def give(user: User, code: str, status: str, expires_in: int | None) -> None:
            kind = types[code]
            document = uploads.save_upload(
                io.BytesIO(_demo_pdf(f"{kind.name_en} - {user.email}")),
                "credential_document",
                owner=user,
                original_name=f"{code}.pdf",
            )
            issued = self.today - timedelta(days=self.rng.randint(30, 300))
            db.session.add(
                VolunteerCredential(
                    volunteer=user,
                    credential_type=kind,
                    issued_on=issued,
                    expires_on=None if expires_in is None else self.today + timedelta(expires_in),
                    status=status,
                    document=document,
                    reviewed_by=reviewer if status != "pending" else None,
                    reviewed_at=self.now if status != "pending" else None,
                    rejection_reason="",
                )
            )

        first = self.volunteers[0]
        give(first, "first_aid", "verified", 365)
        give(first, "child_safeguarding", "pending", 730)
        near = [
            v
            for v in self.volunteers[1:]
            if v.profile is not None and v.profile.governorate is home.governorate
        ]
        for n, user in enumerate(near):
            if n % 4 == 0:
                give(user, "child_safeguarding", "verified", 540)
                give(user, "first_aid", "verified", 20 if n == 0 else 365)

    def sign_ups(self) -> None:
        """Some volunteers sign up for upcoming shifts near them, through the sign-up rules."""
        db.session.flush()
        # Plain facts first: every sign-up commits, and a commit expires the loaded objects.
        shifts = [
            (
                s.id,
                s.institution.lat,
                s.institution.lon,
                s.starts_at.astimezone(self.zone),
                s.ends_at.astimezone(self.zone),
            )
            for s in self.shifts
            if s.starts_at > self.now
        ]
        volunteers = [
            (
                user.id,
                user.profile.home_lat or 0.0,
                user.profile.home_lon or 0.0,
                [(r.weekday, r.start_time, r.end_time) for r in user.profile.availability_rules],
                {skill.id for skill in user.profile.skills},
            )
            for user in self.volunteers
        ]
        db.session.commit()
        week_end = self.now + timedelta(days=7)
        first_week = {shift_id: start < week_end for shift_id, _, _, start, _ in shifts}
        for n, (user_id, lat, lon, rules, skill_ids) in enumerate(volunteers, start=1):
            if n > 1 and self.rng.random() < 0.2:
                continue  # some volunteers have not signed up for anything yet
            wanted = self.rng.randint(1, 3)
            candidates = [
                shift_id
                for shift_id, s_lat, s_lon, start, end in shifts
                if abs(s_lat - lat) <= 0.3
                and abs(s_lon - lon) <= 0.3
                and any(
                    day == start.weekday() and begin <= start.time() and end.time() <= finish
                    for day, begin, finish in rules
                )
            ]
            self.rng.shuffle(candidates)
            # Volunteers book the coming days first: this week fills, next week stays open.
            candidates.sort(key=lambda shift_id: first_week[shift_id], reverse=True)
            done = 0
            for shift_id in candidates[: wanted * 3]:
                if done >= wanted:
                    break
                shift = db.session.get(Shift, shift_id)
                user = db.session.get(User, user_id)
                if shift is not None and user is not None and _place_for(skill_ids, shift):
                    done += _sign_up(user, shift)

    def interests(self) -> None:
        opportunities = list(db.session.scalars(sa.select(Opportunity).order_by(Opportunity.id)))
        for user in self.volunteers[1::3]:
            for opportunity in self.rng.sample(opportunities, 2):
                db.session.add(OpportunityInterest(opportunity_id=opportunity.id, user_id=user.id))

    def _weeks_back(self, moment: datetime, weeks: int) -> datetime:
        """The same local time ``weeks`` earlier (across a clock change too)."""
        return (moment.astimezone(self.zone) - timedelta(weeks=weeks)).astimezone(UTC)

    def attendance(self) -> None:
        """Four past weeks at the first Cairo homes: check-ins by the manager and by QR code,
        a correction and some no-shows, through web.services.attendance; volunteer 1 has hours
        and can download a certificate."""
        from web.services import attendance

        db.session.commit()
        volunteer_one = self.volunteers[0]
        for institution in self.institutions[:3]:
            manager = institution.managers[0]
            opportunity = institution.opportunities[0]
            model = opportunity.shifts[0]  # the same weekday and hours, 1 to 4 weeks back
            gender = model.gender
            people = [
                v for v in self.volunteers[1:] if gender == "any" or v.profile.gender == gender
            ][self.institutions.index(institution) * 6 :][:6]
            if institution is self.institutions[0]:
                people = [volunteer_one, *people[:4]]
            for weeks in range(4, 0, -1):
                shift = Shift(
                    opportunity=opportunity,
                    institution=institution,
                    starts_at=self._weeks_back(model.starts_at, weeks),
                    ends_at=self._weeks_back(model.ends_at, weeks),
                    needed=len(people),
                    open_places=len(people),
                    open_taken=len(people),
                    gender=gender,
                    min_age=0,
                    priority=1,
                    languages=[],
                    status="open",
                )
                db.session.add(shift)
                db.session.flush()
                seats = [
                    Assignment(shift_id=shift.id, volunteer_id=v.id, state="confirmed")
                    for v in people
                ]
                db.session.add_all(seats)
                db.session.commit()
                for n, seat in enumerate(seats):
                    if n == 0 and weeks == 1:  # the last one by scanning the QR code
                        token = attendance.qr_token(shift)
                        arrived = shift.starts_at + timedelta(minutes=5)
                        volunteer = db.session.get(User, seat.volunteer_id)
                        attendance.scan(volunteer, shift.id, token, now=arrived)
                        left = shift.ends_at - timedelta(minutes=10)
                        attendance.scan(volunteer, shift.id, token, now=left)
                    elif self.rng.random() < 0.15 and n > 0:
                        attendance.mark_absent(manager, seat)
                    else:
                        attendance.record_whole_shift(manager, seat)
                        if n == 0 and weeks == 3:
                            attendance.add_correction(
                                manager, seat, -30, "انصرفت قبل نهاية الفترة بنصف ساعة بإذن المدير"
                            )

    def try_it_today(self) -> None:
        """What issue 7's walk-through needs whenever the demo is started: volunteer 1 holds a
        place on a Dar Al Amal shift starting within the hour (its QR code works now), and a
        shift in two days needs the child safeguarding training she is waiting to have
        verified, in her hours, with a free place for a matching run to give her."""
        from web.services import places

        db.session.commit()
        volunteer = self.volunteers[0]
        volunteer_id = volunteer.id
        profile = volunteer.profile
        profile.max_shifts_per_week = None  # the walk-through must not hit her weekly cap
        profile.max_hours_per_week = None
        home = self.institutions[0]
        if home not in profile.preferred_institutions:
            profile.preferred_institutions.append(home)
        plain = [o for o in home.opportunities if not any(s.required_credentials for s in o.shifts)]
        guarded = [
            o
            for o in home.opportunities
            if any(c.code == "child_safeguarding" for s in o.shifts for c in s.required_credentials)
        ]
        begin = (self.now + timedelta(minutes=45)).replace(second=0, microsecond=0)
        begin -= timedelta(minutes=begin.minute % 15)
        for opportunity, start, confirmed in (
            (plain[0] if plain else home.opportunities[0], begin, True),
            (guarded[0] if guarded else home.opportunities[0], None, False),
        ):
            shift = Shift(
                opportunity=opportunity,
                institution=home,
                needed=2,
                open_places=2,
                open_taken=0,
                gender="any",
                min_age=0,
                priority=2,
                languages=[],
                status="open",
            )
            if start is not None:
                shift.starts_at, shift.ends_at = start, start + timedelta(hours=2)
            else:  # 10:00-12:00 local, two days ahead (volunteer 1 is free 09:00-21:00)
                day = self.today + timedelta(days=2)
                shift.starts_at = _local(day, "10:00", self.zone)
                shift.ends_at = _local(day, "12:00", self.zone)
            shift.required_credentials = list(opportunity.shifts[0].required_credentials)
            db.session.add(shift)
            db.session.flush()
            for _ in range(8):  # move it off any shift she already holds
                if not places.busy_clash(volunteer_id, shift):
                    break
                shift.starts_at += timedelta(hours=2, minutes=30)
                shift.ends_at += timedelta(hours=2, minutes=30)
                db.session.flush()
            self.shifts.append(shift)
            if confirmed and places.take(shift.id, None):
                db.session.add(
                    Assignment(shift_id=shift.id, volunteer_id=volunteer_id, state="confirmed")
                )
        db.session.commit()

    def programmes(self) -> None:
        """A choir programme with a cohort, applications in every state and weekly sessions;
        a monitoring-visits programme with a visit yesterday and its report (under review),
        all through web.services.programmes and web.services.monitoring."""
        from web.services import monitoring, programmes
        from web.services.shifts import institution_zone

        db.session.commit()
        cairo_coordinator = db.session.scalars(
            sa.select(User).where(User.email == f"cairo.coordinator@{DOMAIN}")
        ).one()
        national = db.session.scalars(
            sa.select(User).where(User.email == f"coordinator@{DOMAIN}")
        ).one()
        national.can_monitor = True  # the national coordinator reads monitoring reports
        cairo = [i for i in self.institutions if i.governorate.code == "EG-C"][:3]
        choir = programmes.create_programme(
            cairo_coordinator,
            programmes.ProgrammeInput(
                kind="choir",
                governorate_id=cairo[0].governorate_id,
                name_ar="كورال الأمل",
                name_en="Hope choir",
                description_ar="بروفة أسبوعية مع الأطفال وحفل في نهاية الموسم.",
                description_en="A weekly rehearsal with the children and a concert at the end.",
                institution_ids=(cairo[0].id,),
            ),
        )
        cohort = programmes.create_cohort(
            cairo_coordinator,
            choir,
            programmes.CohortInput(
                "دفعة الربيع",
                "Spring cohort",
                self.today - timedelta(days=7),
                self.today + timedelta(days=70),
                8,
            ),
        )
        decisions = ["accepted"] * 4 + ["applied", "waitlisted", "rejected"]
        for volunteer, decision in zip(self.volunteers[:7], decisions, strict=True):
            enrolment = programmes.apply(volunteer, cohort, "أحب الغناء مع الأطفال.", self.now)
            if decision != "applied":
                programmes.decide(cairo_coordinator, enrolment, decision, now=self.now)
        first = self.today + timedelta(days=(5 - self.today.weekday()) % 7 or 7)  # a Saturday
        series = programmes.add_sessions(
            cairo_coordinator,
            cohort,
            programmes.SessionInput(cairo[0].id, first, time(16), time(18), 8, 4),
            now=self.now,
        )
        for volunteer in self.volunteers[:4]:
            _sign_up(volunteer, series.shifts[0])

        visits = programmes.create_programme(
            national,
            programmes.ProgrammeInput(
                kind="monitoring_visits",
                governorate_id=cairo[0].governorate_id,
                name_ar="زيارات رقابية لدور الرعاية",
                name_en="Monitoring visits to care homes",
                institution_ids=tuple(i.id for i in cairo),
            ),
        )
        monitors = programmes.create_cohort(
            national,
            visits,
            programmes.CohortInput(
                "المراقبون المعتمدون ٢٠٢٦",
                "Accredited monitors 2026",
                self.today - timedelta(days=14),
                self.today + timedelta(days=90),
                10,
            ),
        )
        monitor = self.volunteers[1]
        monitor.monitor_accredited = True
        db.session.commit()
        enrolment = programmes.apply(monitor, monitors, "تدربت على الرقابة.", self.now)
        programmes.decide(national, enrolment, "accepted", now=self.now)
        programmes.add_sessions(
            national,
            monitors,
            programmes.SessionInput(cairo[1].id, first, time(10), time(12), 4, 2),
            now=self.now,
        )
        # Yesterday's visit (past shifts cannot be created through the shifts service).
        opportunity = programmes.cohort_opportunity(national, monitors, cairo[0])
        zone = institution_zone(cairo[0])
        yesterday = self.today - timedelta(days=1)
        visit = Shift(
            opportunity=opportunity,
            institution=cairo[0],
            starts_at=datetime.combine(yesterday, time(10), zone).astimezone(UTC),
            ends_at=datetime.combine(yesterday, time(12), zone).astimezone(UTC),
            needed=1,
            open_places=1,
            open_taken=1,
            gender="any",
            min_age=0,
            priority=1,
            languages=[],
            status="open",
        )
        db.session.add(visit)
        db.session.flush()
        db.session.add(Assignment(shift_id=visit.id, volunteer_id=monitor.id, state="confirmed"))
        db.session.commit()
        answers = {code: "yes" for code, _label in monitoring.checklist_for(cairo[0].kind)}
        answers.update({"enough_staff": "no", "age_separation": "no"})
        report = monitoring.file_report(
            monitor,
            visit,
            monitoring.ReportInput(
                answers=answers,
                notes="مشرفة واحدة فقط لثلاثين طفلًا في الفترة المسائية، وينام الأطفال الأكبر سنًا "
                "في غرفة الصغار نفسها.",
                severity="serious",
            ),
            now=self.now,
        )
        monitoring.move(national, report, "under_review", "", now=self.now)


def _demo_pdf(title: str) -> bytes:
    """A one-page PDF naming a demo certificate (plain ASCII: the built-in Helvetica font)."""
    text = "".join(ch for ch in title if ch.isascii() and ch not in "()\\")
    content = f"BT /F1 20 Tf 72 700 Td (Demo certificate) Tj 0 -32 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


def _place_for(skill_ids: set[int], shift: Shift) -> bool:
    """Whether an open place, or a reserved place of one of the volunteer's skills, is free."""
    if shift.open_taken < shift.open_places:
        return True
    return any(r.taken < r.places and r.skill_id in skill_ids for r in shift.requirements)


def _sign_up(user: User, shift: Shift) -> bool:
    """Sign up through web.services.signup (capacity and matching rules); False if refused."""
    from web.services.signup import SignupError, sign_up

    try:
        assignment = sign_up(user, shift)
    except SignupError as refused:
        log.debug("demo sign-up refused: %s", refused.reasons)
        return False
    return assignment.state != "waitlisted"
