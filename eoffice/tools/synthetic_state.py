"""A synthetic state for the whole-state benchmark (deploy/bench/state.py): the organisation importer's five CSV files
(the format of services/directory/demo, README.md there) for a state of `districts` districts
and about `users` people, the same for the same arguments (`seed`).

    write(folder, districts=33, users=200_000, seed=SEED) -> Counts

The state (code ST) has a secretariat department per entry of DEPARTMENTS (sections, a
Secretary > Special Secretary > Joint Secretary > Under Secretary > Section Officer chain and
their dealing hands), each with a head-of-department office (a Director and sections), and the
state IT cell with the system admin. Each district (D01 ...) has a Collectorate (DM > ADMs >
officers in charge > administrative officers of eight sections, one of them the dak section
with four dak clerks, and an e-Office admin), TEHSILS tehsils (SDM > Tehsildar > Naib
Tehsildar, a dak clerk), and a district office of every department (district officer > a dak
clerk and administrative officers of its sections, supervised by the department's Director).
Dealing hands (`section_staff`) fill the sections until the state has `users` people. Every
post is held by one user (a regular posting); supervisors come before the posts they
supervise, as the importer requires."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

SEED = 20261130
VERSION = 3  # of the shape: a template of another version is built again
DOMAIN = "st.gov.in"
TEHSILS = 4
DEPARTMENTS = [  # code, English, Hindi, what its district office is called
    ("REV", "Revenue", "राजस्व", "District Revenue Office"),
    ("HOME", "Home", "गृह", "Police Office"),
    ("FIN", "Finance", "वित्त", "Treasury"),
    ("EDU", "Basic Education", "बेसिक शिक्षा", "Basic Education Office"),
    ("HLTH", "Medical and Health", "चिकित्सा एवं स्वास्थ्य", "Chief Medical Office"),
    ("AGRI", "Agriculture", "कृषि", "Agriculture Office"),
    ("PWD", "Public Works", "लोक निर्माण", "PWD Division"),
    ("IRR", "Irrigation", "सिंचाई", "Irrigation Division"),
    ("RD", "Rural Development", "ग्राम्य विकास", "District Rural Development Agency"),
    ("PR", "Panchayati Raj", "पंचायती राज", "District Panchayat Raj Office"),
    ("FOOD", "Food and Civil Supplies", "खाद्य एवं रसद", "Supply Office"),
    ("SOCW", "Social Welfare", "समाज कल्याण", "Social Welfare Office"),
    ("WCD", "Women and Child Development", "महिला एवं बाल विकास", "Programme Office (ICDS)"),
    ("LAB", "Labour", "श्रम", "Labour Office"),
    ("FOR", "Forest", "वन", "Forest Division"),
    ("TRN", "Transport", "परिवहन", "Regional Transport Office"),
    ("ENG", "Energy", "ऊर्जा", "Electricity Division"),
    ("IND", "Industries", "उद्योग", "District Industries Centre"),
    ("COOP", "Cooperation", "सहकारिता", "Cooperative Office"),
    ("EXC", "Excise", "आबकारी", "Excise Office"),
    ("TAX", "Commercial Tax", "वाणिज्य कर", "Commercial Tax Office"),
    ("STMP", "Stamps and Registration", "स्टाम्प एवं पंजीयन", "Registration Office"),
    ("MIN", "Minority Welfare", "अल्पसंख्यक कल्याण", "Minority Welfare Office"),
    ("HED", "Higher Education", "उच्च शिक्षा", "Higher Education Office"),
    ("HSG", "Housing", "आवास", "Development Authority"),
    ("URB", "Urban Development", "नगर विकास", "Municipal Office"),
    ("ANI", "Animal Husbandry", "पशुपालन", "Veterinary Office"),
    ("SPT", "Sports", "खेल", "Sports Office"),
    ("ELE", "Elections", "निर्वाचन", "Election Office"),
    ("GAD", "General Administration", "सामान्य प्रशासन", "Collectorate Establishment"),
]
COLLECTORATE = [
    ("EST", "Establishment", "अधिष्ठान"),
    ("REV", "Revenue", "राजस्व"),
    ("DAK", "Central Registry", "केंद्रीय रजिस्ट्री"),
    ("LAND", "Land Acquisition", "भूमि अध्याप्ति"),
    ("ELEC", "Election", "निर्वाचन"),
    ("GRV", "Public Grievances", "जन शिकायत"),
    ("ACC", "Accounts", "लेखा"),
    ("NAZ", "Nazarat", "नज़ारत"),
]
SECTIONS = [("EST", "Establishment", "अधिष्ठान"), ("ACC", "Accounts", "लेखा"), ("PRG", "Programmes", "योजना")]
HOLIDAYS = [
    ("2026-01-26", "Republic Day", "गणतंत्र दिवस"),
    ("2026-08-15", "Independence Day", "स्वतंत्रता दिवस"),
    ("2026-10-02", "Gandhi Jayanti", "गांधी जयंती"),
    ("2026-11-08", "Deepawali", "दीपावली"),
    ("2027-01-26", "Republic Day", "गणतंत्र दिवस"),
    ("2027-08-15", "Independence Day", "स्वतंत्रता दिवस"),
]
HEADERS = {
    "offices": ["code", "parent_code", "level", "name_en", "name_hi", "weekly_off"],
    "holidays": ["office_code", "date", "name_en", "name_hi"],
    "posts": ["code", "office_code", "designation_en", "designation_hi", "supervisor_code", "roles"],
    "users": ["employee_id", "name_en", "name_hi", "email", "mobile"],
    "postings": ["employee_id", "post_code", "start_date", "end_date", "charge"],
}
STAFF = "section_staff"
FIRST = [
    ("Aarti", "आरती"),
    ("Bharat", "भरत"),
    ("Chetan", "चेतन"),
    ("Divya", "दिव्या"),
    ("Gopal", "गोपाल"),
    ("Hemant", "हेमंत"),
    ("Indu", "इंदु"),
    ("Kamal", "कमल"),
    ("Lata", "लता"),
    ("Mohan", "मोहन"),
    ("Nafees", "नफ़ीस"),
    ("Prem", "प्रेम"),
    ("Rekha", "रेखा"),
    ("Sameer", "समीर"),
    ("Tara", "तारा"),
    ("Uday", "उदय"),
    ("Varun", "वरुण"),
    ("Zeba", "ज़ेबा"),
]
LAST = [
    ("Agnihotri", "अग्निहोत्री"),
    ("Bhatt", "भट्ट"),
    ("Chauhan", "चौहान"),
    ("Dwivedi", "द्विवेदी"),
    ("Joshi", "जोशी"),
    ("Kapoor", "कपूर"),
    ("Lal", "लाल"),
    ("Mehrotra", "मेहरोत्रा"),
    ("Ojha", "ओझा"),
    ("Prajapati", "प्रजापति"),
    ("Qadri", "क़ादरी"),
    ("Rathore", "राठौर"),
    ("Sinha", "सिन्हा"),
    ("Upadhyay", "उपाध्याय"),
]


@dataclass(frozen=True)
class Counts:
    offices: int
    posts: int
    users: int
    postings: int

    @property
    def rows(self) -> int:
        return self.offices + self.posts + self.users + self.postings


class _State:
    def __init__(self):
        self.offices: list[tuple] = []
        self.posts: list[tuple] = []
        self.sections: list[tuple[str, str]] = []  # (section office, its officer): where dealing hands go

    def office(self, row: tuple) -> str:
        """(code, parent, level, name_en, name_hi[, weekly_off])"""
        self.offices.append(row if len(row) == 6 else (*row, "SUN"))
        return row[0]

    def post(self, row: tuple, *roles: str) -> str:
        """(code, office, designation_en, designation_hi, supervisor)"""
        self.posts.append((*row, ";".join(roles)))
        return row[0]

    def section(self, office: tuple, officer: tuple) -> str:
        """A section office (code, parent, name_en, name_hi[, weekly_off]) and its officer (code,
        designation_en, designation_hi, supervisor); dealing hands are added later."""
        code = self.office((office[0], office[1], "section", *office[2:]))
        ao = self.post((officer[0], code, *officer[1:]), "officer")
        self.sections.append((code, ao))
        return ao


def _build(districts: int) -> _State:
    s = _State()
    s.office(("ST", "", "state", "Government of the State", "राज्य सरकार"))
    cs = s.post(("CS-ST", "ST", "Chief Secretary", "मुख्य सचिव", ""), "officer", "supervisor")
    s.office(("ST-IT", "ST", "department", "State e-Office Cell", "राज्य ई-ऑफिस प्रकोष्ठ", "SAT;SUN"))
    s.post(("SYSADM-ST", "ST-IT", "System Administrator, e-Office", "सिस्टम प्रशासक, ई-ऑफिस", cs), "system_admin")
    director = {}
    for code, en, hi, _ in DEPARTMENTS:
        dept = s.office((f"S-{code}", "ST", "department", f"{en} Department", f"{hi} विभाग", "SAT;SUN"))
        secy = s.post((f"SECY-{code}", dept, f"Secretary, {en}", f"सचिव, {hi}", cs), "officer", "supervisor")
        spl = s.post((f"SPLSECY-{code}", dept, f"Special Secretary, {en}", f"विशेष सचिव, {hi}", secy), "officer")
        js = s.post((f"JS-{code}", dept, f"Joint Secretary, {en}", f"संयुक्त सचिव, {hi}", spl), "officer")
        for key, s_en, s_hi in SECTIONS:
            us = s.post((f"US({key})-{code}", dept, f"Under Secretary ({s_en})", f"अनु सचिव ({s_hi})", js), "officer")
            s.section(
                (f"S-{code}-{key}", dept, f"{s_en} Section, {en}", f"{s_hi} अनुभाग, {hi}", "SAT;SUN"),
                (f"SO({key})-{code}", f"Section Officer ({s_en})", f"अनुभाग अधिकारी ({s_hi})", us),
            )
        hod = s.office((f"H-{code}", dept, "hod", f"Directorate of {en}", f"{hi} निदेशालय", "SAT;SUN"))
        director[code] = s.post((f"DIR-{code}", hod, f"Director, {en}", f"निदेशक, {hi}", secy), "officer", "supervisor")
        for key, s_en, s_hi in SECTIONS:
            s.section(
                (f"H-{code}-{key}", hod, f"{s_en} Section, Directorate", f"{s_hi} अनुभाग, {hi} निदेशालय", "SAT;SUN"),
                (f"AD({key})-{code}", f"Assistant Director ({s_en})", f"सहायक निदेशक ({s_hi})", director[code]),
            )
    for n in range(1, districts + 1):
        d, en, hi = f"D{n:02d}", f"District {n}", f"जनपद {n}"
        dist = s.office((d, "ST", "district", f"Collectorate, {en}", f"कलेक्ट्रेट, {hi}"))
        dm = s.post((f"DM-{d}", dist, f"District Magistrate, {en}", f"जिलाधिकारी, {hi}", cs), "officer", "supervisor")
        adm = s.post((f"ADM-{d}", dist, "Additional District Magistrate", "अपर जिलाधिकारी", dm), "officer")
        s.post((f"EOADM-{d}", dist, f"e-Office Administrator, {en}", f"ई-ऑफिस प्रशासक, {hi}", adm), "office_admin")
        for key, s_en, s_hi in COLLECTORATE:
            ao = s.section(
                (f"{d}-C-{key}", dist, f"{s_en} Section, {en}", f"{s_hi} पटल, {hi}"),
                (f"AO({key})-{d}", f"Administrative Officer ({s_en})", f"प्रशासनिक अधिकारी ({s_hi})", adm),
            )
            for i in range(1, 5 if key == "DAK" else 1):
                s.post((f"DAKCLK{i}-{d}", f"{d}-C-DAK", f"Dak Clerk {i}", f"डाक लिपिक {i}", ao), "dak_clerk")
        for t in range(1, TEHSILS + 1):
            teh = s.office((f"{d}-T{t}", dist, "office", f"Tehsil {t}, {en}", f"तहसील {t}, {hi}"))
            sdm = s.post((f"SDM{t}-{d}", teh, f"Sub-Divisional Magistrate {t}", f"उपजिलाधिकारी {t}", adm), "officer",
                         "supervisor")  # fmt: skip
            th = s.post((f"TEH{t}-{d}", teh, f"Tehsildar, Tehsil {t}", f"तहसीलदार, तहसील {t}", sdm), "officer")
            nt = s.section(
                (f"{d}-T{t}-OFC", teh, f"Tehsil Office {t}", f"तहसील कार्यालय {t}"),
                (f"NT{t}-{d}", f"Naib Tehsildar, Tehsil {t}", f"नायब तहसीलदार, तहसील {t}", th),
            )
            s.post((f"DAKCLK(T{t})-{d}", f"{d}-T{t}-OFC", f"Dak Clerk, Tehsil {t}", f"डाक लिपिक {t}", nt), "dak_clerk")
        for code, d_en, d_hi, office_en in DEPARTMENTS:
            o = s.office((f"{d}-{code}", dist, "office", f"{office_en}, {en}", f"{d_hi} कार्यालय, {hi}"))
            head = s.post((f"DO-{code}-{d}", o, f"District Officer ({d_en})", f"जिला अधिकारी ({d_hi})", director[code]),
                          "officer", "supervisor")  # fmt: skip
            s.post((f"DAKCLK-{code}-{d}", o, f"Dak Clerk, {office_en}", f"डाक लिपिक ({d_hi})", head), "dak_clerk")
            for key, s_en, s_hi in SECTIONS:
                s.section(
                    (f"{d}-{code}-{key}", o, f"{s_en} Section, {office_en}, {en}", f"{s_hi} पटल, {hi}"),
                    (f"AO({key})-{code}-{d}", f"Administrative Officer ({s_en})", f"प्रशासनिक अधिकारी ({s_hi})", head),
                )
    return s


def write(folder: Path | str, *, districts: int = 33, users: int = 200_000, seed: int = SEED) -> Counts:
    """Writes offices.csv, holidays.csv, posts.csv, users.csv and postings.csv into `folder`
    (created); returns what they hold. Raises ValueError when `users` is fewer than the posts
    the state has without dealing hands."""
    rng = random.Random(seed)
    s = _build(districts)
    extra = users - len(s.posts)
    if extra < 0:
        raise ValueError(f"{users} users cannot hold the {len(s.posts)} posts of {districts} districts")
    # Dealing hands: every section at least one, the rest spread at random (some sections are busier).
    counts = [1] * len(s.sections)
    for i in rng.choices(range(len(s.sections)), k=max(0, extra - len(s.sections))):
        counts[i] += 1
    staff = []
    for (office, officer), count in zip(s.sections, counts, strict=True):
        staff += [
            (f"DH{i}-{office}", office, f"Dealing Assistant {i}", f"सहायक {i}", officer, STAFF)
            for i in range(1, count + 1)
        ]
    posts = s.posts + staff[: max(0, extra)]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    people, postings = [], []
    for n, post in enumerate(posts):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name_en, name_hi = f"{first[0]} {last[0]}", f"{first[1]} {last[1]}"
        employee = f"ST{n + 1:07d}"
        login = name_en.lower().split()
        people.append((employee, name_en, name_hi, f"{login[0]}.{login[-1]}.{n + 1}@{DOMAIN}", f"{6 + n % 4}{n:09d}"))
        postings.append(
            (employee, post[0], f"20{15 + rng.randrange(11)}-{1 + rng.randrange(12):02d}-01", "", "regular")
        )
    rows = {
        "offices": s.offices,
        "holidays": [("ST", *h) for h in HOLIDAYS],
        "posts": posts,
        "users": people,
        "postings": postings,
    }
    for name, header in HEADERS.items():
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(header)
            out.writerows(rows[name])
    return Counts(len(s.offices), len(posts), len(people), len(postings))
