"""The demo handbook (全科社工手册) as data: 5 categories and 68 items (18 fit for doorstep
proxy), generated from the compact tables below, and a few tips; ``service.seed`` loads them.
Policy documents are cited (with numbers) only where the citation is certain; local details
(time limits, materials, steps, contacts) are examples and every summary says so
("（示例文本）"). No real person's name appears here.
"""

from __future__ import annotations

from typing import Any

from ..items.schemas import ItemFields

DEMO = "（示例文本）"

CATEGORIES = [
    ("party-league", "党群服务", "党组织关系、团组织关系转接，志愿服务等"),
    ("family-birth", "计生与家庭", "生育登记、独生子女光荣证、户籍与家庭事务等"),
    ("disability", "残疾人服务", "残疾证办理、残疾人两项补贴、康复与就业等"),
    ("employment-social-security", "就业与社保", "“4050”补贴、失业登记、养老金领取与资格认证等"),
    ("elderly-livelihood", "养老与民生保障", "高龄补贴、低保、特困供养、廉租房等"),
]

# Policy documents: only well-known titles, numbers only where certain.
DOCS: dict[str, dict[str, Any]] = {
    "cpc": {"title": "中国共产党章程", "issuer": "中国共产党全国代表大会"},
    "cyl": {"title": "中国共产主义青年团章程", "issuer": "中国共产主义青年团全国代表大会"},
    "volunteer": {"title": "志愿服务条例", "number": "国务院令第685号", "issuer": "国务院"},
    "population": {
        "title": "中华人民共和国人口与计划生育法",
        "issuer": "全国人民代表大会常务委员会",
    },
    "hukou": {"title": "中华人民共和国户口登记条例", "issuer": "全国人民代表大会常务委员会"},
    "residence": {"title": "居住证暂行条例", "number": "国务院令第663号", "issuer": "国务院"},
    "disability_law": {
        "title": "中华人民共和国残疾人保障法",
        "issuer": "全国人民代表大会常务委员会",
    },
    "two_subsidies": {
        "title": "国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见",
        "number": "国发〔2015〕52号",
        "issuer": "国务院",
        "issued_on": "2015-09-22",
    },
    "disability_grading": {
        "title": "残疾人残疾分类和分级",
        "number": "GB/T 26341-2010",
        "issuer": "国家标准化管理委员会",
    },
    "social_insurance": {
        "title": "中华人民共和国社会保险法",
        "issuer": "全国人民代表大会常务委员会",
    },
    "employment_law": {"title": "中华人民共和国就业促进法", "issuer": "全国人民代表大会常务委员会"},
    "resident_pension": {
        "title": "国务院关于建立统一的城乡居民基本养老保险制度的意见",
        "number": "国发〔2014〕8号",
        "issuer": "国务院",
    },
    "retirement_age": {
        "title": "全国人民代表大会常务委员会关于实施渐进式延迟法定退休年龄的决定",
        "issuer": "全国人民代表大会常务委员会",
        "issued_on": "2024-09-13",
    },
    "elderly_law": {
        "title": "中华人民共和国老年人权益保障法",
        "issuer": "全国人民代表大会常务委员会",
    },
    "social_assistance": {
        "title": "社会救助暂行办法",
        "number": "国务院令第649号",
        "issuer": "国务院",
    },
    "dibao_regulation": {
        "title": "城市居民最低生活保障条例",
        "number": "国务院令第271号",
        "issuer": "国务院",
    },
    "public_rental": {
        "title": "公共租赁住房管理办法",
        "number": "住房和城乡建设部令第11号",
        "issuer": "住房和城乡建设部",
    },
    "military_law": {
        "title": "中华人民共和国退役军人保障法",
        "issuer": "全国人民代表大会常务委员会",
    },
    "medical_insurance": {
        "title": "中华人民共和国社会保险法（基本医疗保险）",
        "issuer": "全国人民代表大会常务委员会",
    },
}

DEPARTMENTS = {
    "org": ("县委组织部（街道党工委）", "社区党群服务中心党建窗口"),
    "league": ("共青团和县委员会", "社区党群服务中心党建窗口"),
    "civil": ("和县民政局", "社区党群服务中心综合窗口"),
    "health": ("和县卫生健康委员会", "社区党群服务中心计生窗口"),
    "police": ("和县公安局（户籍派出所）", "辖区派出所户籍窗口"),
    "dpf": ("和县残疾人联合会", "社区党群服务中心残联专干"),
    "hrss": ("和县人力资源和社会保障局", "社区党群服务中心社保窗口"),
    "medins": ("和县医疗保障局", "社区党群服务中心医保窗口"),
    "housing": ("和县住房和城乡建设局", "社区党群服务中心综合窗口"),
    "veterans": ("和县退役军人事务局", "社区退役军人服务站"),
}

MATERIALS: dict[str, dict[str, Any]] = {
    "id": {"name": "居民身份证", "form": "original", "notes": "核验后当场退还"},
    "id_copy": {"name": "居民身份证复印件", "form": "copy", "notes": "正反面复印在同一页"},
    "hukou": {"name": "户口簿复印件", "form": "copy", "notes": "首页及本人页"},
    "photo": {"name": "近期免冠一寸彩色照片", "form": "original", "count": 2, "notes": "白底"},
    "bank": {"name": "本人银行卡（社保卡）复印件", "form": "copy", "notes": "用于补贴发放"},
    "disab_cert": {"name": "残疾人证复印件", "form": "copy"},
    "marriage": {"name": "结婚证复印件", "form": "copy"},
    "application": {
        "name": "申请表",
        "form": "original",
        "notes": "窗口领取，或代办员上门时现场填写",
    },
    "income": {"name": "家庭收入及财产状况声明", "form": "original", "notes": "家庭成员签字"},
    "housing": {"name": "住房情况证明（房产或租房合同）", "form": "copy"},
    "medical": {"name": "医院诊断证明或病历", "form": "copy"},
    "party_letter": {
        "name": "党员组织关系介绍信",
        "form": "original",
        "collectable_at_home": False,
    },
    "league_letter": {
        "name": "团员组织关系转接证明",
        "form": "electronic",
        "notes": "“智慧团建”系统中发起",
    },
    "unemployment": {"name": "就业创业证（失业登记证明）", "form": "copy"},
    "social_card": {"name": "社会保障卡", "form": "original"},
    "birth_cert": {"name": "出生医学证明", "form": "copy"},
    "authorization": {
        "name": "代办委托书",
        "form": "original",
        "notes": "上门代办时由本人签字或按手印",
    },
    "assessment": {
        "name": "残疾评定表",
        "form": "original",
        "notes": "在指定医院评定后领取",
        "collectable_at_home": False,
    },
    "flexible_proof": {"name": "灵活就业登记或缴费凭证", "form": "copy"},
    "discharge": {"name": "退役证明（退伍证）", "form": "copy"},
    "child_id": {"name": "子女户口簿或出生医学证明复印件", "form": "copy"},
}

STEPS: dict[str, list[tuple[str, str]]] = {
    "subsidy": [
        ("提出申请", "本人或委托代办员向社区提交申请表和材料"),
        ("社区初审", "社区入户核实情况，在社区公示栏公示"),
        ("部门审核", "主管部门审核审批，不符合条件的书面告知理由"),
        ("按月发放", "审批通过后次月起发放至本人银行卡（社保卡）"),
    ],
    "certificate": [
        ("提交材料", "到社区窗口或由代办员上门收取材料"),
        ("受理审核", "窗口当场核验材料，材料齐全即受理"),
        ("审批制证", "主管部门审核后制作证件"),
        ("领取证件", "社区通知领取，或由代办员送证上门"),
    ],
    "transfer": [
        ("开具介绍信", "转出单位党（团）组织开具关系转接证明"),
        ("社区接收", "持证明到社区党群服务中心办理接收"),
        ("编入支部", "编入社区党（团）支部，参加组织生活"),
    ],
    "register": [
        ("提交材料", "窗口提交或网上申报"),
        ("审核登记", "工作人员审核后登记"),
        ("告知结果", "当场或按承诺时限告知办理结果"),
    ],
    "face": [
        ("下载软件", "在手机上安装国家社会保险公共服务平台或本省社保APP"),
        ("刷脸认证", "按提示完成人脸识别；不便者可请代办员上门协助"),
        ("查看结果", "认证成功后在APP内查看，失败可到窗口人工认证"),
    ],
    "pension": [
        ("到龄前申请", "达到领取年龄前一个月向社保窗口提出申请"),
        ("待遇核定", "社保经办机构核定缴费年限和待遇标准"),
        ("按月领取", "核定后次月起按月发放至社保卡"),
    ],
    "assessment": [
        ("提出申请", "向社区残联专干提出申请并领取评定表"),
        ("医院评定", "到指定医院进行残疾评定（行动不便可申请上门评定）"),
        ("审核发证", "县残联审核后制证，社区通知领取或送证上门"),
    ],
}

# Eligibility rules (JSON Logic subset over doorstep_shared.rules.vocabulary).
LOCAL = {"var": "hukou_local"}
ANY_GRADE = {"in": [{"var": "disability_grade"}, [1, 2, 3, 4]]}
SEVERE = {"<=": [{"var": "disability_grade"}, 2]}
# fmt: off
R: dict[str, Any] = {
    'elderly': {'and': [{'>=': [{'var': 'age'}, 80]}, LOCAL]},
    'centenarian': {'and': [{'>=': [{'var': 'age'}, 100]}, LOCAL]},
    'senior_card': {'>=': [{'var': 'age'}, 60]},
    'home_care': {'and': [LOCAL, {'or': [{'and': [{'>=': [{'var': 'age'}, 80]}, {'var': 'living_alone'}]}, {'and': [{'>=': [{'var': 'age'}, 60]}, {'var': 'dibao'}]}]}]},
    'hard_disability': {'and': [ANY_GRADE, {'var': 'dibao'}, LOCAL]},
    'care_subsidy': {'and': [LOCAL, {'or': [SEVERE, {'and': [{'==': [{'var': 'disability_grade'}, 3]}, {'in': [{'var': 'disability_type'}, ['intellectual', 'mental']]}]}]}]},
    'any_disability': {'and': [ANY_GRADE, LOCAL]},
    'aids': {'and': [{'in': [{'var': 'disability_type'}, ['physical', 'visual', 'hearing']]}, ANY_GRADE]},
    'fuel': {'and': [{'==': [{'var': 'disability_type'}, 'physical']}, SEVERE]},
    'severe_care': {'and': [SEVERE, LOCAL]},
    'disabled_student': {'and': [ANY_GRADE, {'==': [{'var': 'employment_status'}, 'student']}]},
    'disabled_job': {'and': [ANY_GRADE, {'in': [{'var': 'employment_status'}, ['unemployed', 'none']]}, {'<': [{'var': 'age'}, 60]}]},
    'pension_claim': {'and': [{'var': 'pension_insured'}, {'or': [{'and': [{'==': [{'var': 'gender'}, 'male']}, {'>=': [{'var': 'age'}, 60]}]}, {'and': [{'==': [{'var': 'gender'}, 'female']}, {'>=': [{'var': 'age'}, 55]}]}]}]},
    'resident_pension_claim': {'and': [{'var': 'pension_insured'}, {'>=': [{'var': 'age'}, 60]}, LOCAL]},
    'face_check': {'in': ['pension-claim', {'var': 'benefits'}]},
    'resident_pension_join': {'and': [{'>=': [{'var': 'age'}, 16]}, {'<': [{'var': 'age'}, 60]}, {'!': {'var': 'pension_insured'}}, {'!=': [{'var': 'employment_status'}, 'student']}]},
    '4050': {'and': [{'or': [{'and': [{'==': [{'var': 'gender'}, 'female']}, {'>=': [{'var': 'age'}, 40]}]}, {'and': [{'==': [{'var': 'gender'}, 'male']}, {'>=': [{'var': 'age'}, 50]}]}]}, {'in': [{'var': 'employment_status'}, ['unemployed', 'flexible']]}, {'<': [{'var': 'age'}, 60]}, LOCAL]},
    'unemployed': {'==': [{'var': 'employment_status'}, 'unemployed']},
    'hard_to_employ': {'and': [{'==': [{'var': 'employment_status'}, 'unemployed']}, {'or': [{'and': [{'==': [{'var': 'gender'}, 'female']}, {'>=': [{'var': 'age'}, 40]}]}, {'and': [{'==': [{'var': 'gender'}, 'male']}, {'>=': [{'var': 'age'}, 50]}]}, ANY_GRADE, {'var': 'dibao'}]}]},
    'dibao': {'and': [LOCAL, {'!': {'var': 'dibao'}}, {'or': [{'var': 'serious_illness'}, SEVERE, {'in': [{'var': 'employment_status'}, ['unemployed', 'none']]}]}]},
    'extreme_poverty': {'and': [LOCAL, {'==': [{'var': 'children_count'}, 0]}, {'or': [{'>=': [{'var': 'age'}, 60]}, SEVERE]}]},
    'medical_aid': {'and': [{'var': 'serious_illness'}, {'or': [{'var': 'dibao'}, {'in': ['extreme-poverty-support', {'var': 'benefits'}]}]}]},
    'public_rental': {'and': [LOCAL, {'var': 'housing_difficulty'}]},
    'low_rent': {'and': [LOCAL, {'var': 'housing_difficulty'}, {'var': 'dibao'}]},
    'one_child_reward': {'and': [{'==': [{'var': 'children_count'}, 1]}, {'>=': [{'var': 'age'}, 60]}]},
    'one_child_cert': {'==': [{'var': 'children_count'}, 1]},
    'flexible': {'==': [{'var': 'employment_status'}, 'flexible']},
    'hardship_heating': {'or': [{'var': 'dibao'}, {'in': ['extreme-poverty-support', {'var': 'benefits'}]}]},
    'alone_senior': {'and': [{'>=': [{'var': 'age'}, 60]}, {'var': 'living_alone'}]},
    'senior_hardship': {'and': [{'>=': [{'var': 'age'}, 60]}, {'or': [{'var': 'living_alone'}, {'var': 'dibao'}]}]},
    'resident_medical': {'!=': [{'var': 'employment_status'}, 'employed']},
}
# fmt: on

# code, name, aliases, category, proxy, channels (w=window d=doorstep o=online),
# statutory/promised days, department, trips, materials, steps, rule, docs, summary, audience
ItemRow = tuple[
    str,
    str,
    str,
    str,
    bool,
    str,
    tuple[int | None, int | None],
    str,
    int,
    str,
    str,
    str | None,
    str,
    str,
    str,
]
# fmt: off
ITEMS: list[ItemRow] = [
    # ---- 党群服务
    ('party-transfer', '党组织关系转接', '党员关系转移|转党关系|组织关系转入', 'party-league', False, 'wo', (None, 5), 'org', 1, 'party_letter,id_copy', 'transfer', None, 'cpc', '党员工作单位或居住地变动时，转入或转出社区党组织。', '正式党员和预备党员'),
    ('league-transfer', '团组织关系转接', '团员关系转移|转团关系|智慧团建转接', 'party-league', False, 'wo', (None, 5), 'league', 0, 'league_letter', 'transfer', None, 'cyl', '团员升学、就业或迁居后，在“智慧团建”系统中转入社区团支部。', '28周岁以下团员'),
    ('retired-party-member-transfer', '退休党员组织关系移交社区', '退休党员|党员关系进社区', 'party-league', False, 'w', (None, 10), 'org', 1, 'party_letter,id_copy,photo', 'transfer', None, 'cpc', '企业退休党员组织关系由原单位移交至居住地社区党组织管理。', '已办理退休手续的党员'),
    ('mobile-party-member', '流动党员登记', '流动党员活动证|外出党员', 'party-league', False, 'w', (None, 3), 'org', 1, 'id_copy,photo', 'register', None, 'cpc', '外出务工经商半年以上的党员，在社区登记并领取流动党员活动证。', '外出的流动党员'),
    ('party-dues', '党费交纳', '交党费|党费收缴', 'party-league', False, 'wo', (None, 1), 'org', 0, '', 'register', None, 'cpc', '社区党员按月或按季交纳党费，可在窗口或线上交纳。', '社区党组织管理的党员'),
    ('party-member-certificate', '党员身份证明开具', '党员证明|政治面貌证明', 'party-league', False, 'w', (None, 3), 'org', 1, 'id_copy', 'register', None, 'cpc', '为在社区党组织管理的党员开具党员身份证明。', '社区党组织管理的党员'),
    ('volunteer-registration', '志愿者注册', '志愿服务|志愿者登记|做志愿者', 'party-league', False, 'wo', (None, 1), 'civil', 0, 'id_copy', 'register', None, 'volunteer', '居民注册成为社区志愿者，参加党群驿站等志愿服务并记录时长。', '年满18周岁的居民（未成年人需监护人同意）'),
    ('veteran-info', '退役军人信息采集', '退役军人登记|退伍军人信息', 'party-league', False, 'w', (None, 5), 'veterans', 1, 'id_copy,discharge,photo', 'register', None, 'military_law', '退役军人到社区退役军人服务站采集信息、建立档案。', '户籍或常住在本社区的退役军人'),
    ('veteran-preferential-card', '退役军人优待证申领', '优待证|军人优待证', 'party-league', False, 'wo', (None, 20), 'veterans', 1, 'id_copy,discharge,photo', 'certificate', None, 'military_law', '已采集信息的退役军人申领优待证，享受交通、游览等优待。', '已完成信息采集的退役军人'),
    # ---- 计生与家庭
    ('birth-registration', '生育登记', '生育登记证|生育服务证|准生证', 'family-birth', False, 'wo', (None, 1), 'health', 0, 'id_copy,marriage,hukou', 'register', None, 'population', '夫妻生育子女，在怀孕前或怀孕后向户籍地或居住地登记，可网上办理。', '生育子女的夫妻'),
    ('one-child-certificate', '独生子女光荣证', '独生子女证|独生子女父母光荣证', 'family-birth', False, 'w', (None, 5), 'health', 1, 'id_copy,hukou,marriage,child_id,photo', 'certificate', 'one_child_cert', 'population', '只生育一个子女的夫妻申领独生子女父母光荣证（示例条件，以本地政策为准）。', '只有一个子女的夫妻'),
    ('one-child-parent-reward', '独生子女父母奖励扶助', '计划生育奖励扶助|奖扶金', 'family-birth', True, 'wd', (None, 20), 'health', 0, 'id_copy,hukou,bank,application,authorization', 'subsidy', 'one_child_reward', 'population', '符合条件的独生子女父母年满60周岁后按年领取奖励扶助金。', '年满60周岁的独生子女父母'),
    ('family-planning-special-aid', '计划生育特别扶助', '特扶金|失独家庭扶助', 'family-birth', False, 'wd', (None, 20), 'health', 1, 'id_copy,hukou,bank,application,medical', 'subsidy', None, 'population', '独生子女伤残或死亡的家庭，夫妻按月领取特别扶助金。', '独生子女伤残、死亡家庭的父母'),
    ('childcare-subsidy', '育儿补贴申领', '育儿补贴|三岁以下育儿补贴', 'family-birth', False, 'wo', (None, 15), 'health', 0, 'id_copy,child_id,bank', 'subsidy', None, 'population', '三周岁以下婴幼儿的父母申领国家育儿补贴（标准以最新公布为准）。', '三周岁以下婴幼儿的父母'),
    ('newborn-hukou', '新生儿户口登记', '新生儿落户|报户口|上户口', 'family-birth', False, 'wo', (None, 1), 'police', 1, 'birth_cert,hukou,id_copy,marriage', 'register', None, 'hukou', '婴儿出生后一个月内，由监护人持出生医学证明申报出生登记。', '新生儿的父母或监护人'),
    ('marriage-birth-certificate', '婚育情况证明', '婚育证明|未婚证明|生育情况证明', 'family-birth', False, 'w', (None, 1), 'health', 1, 'id_copy,hukou', 'register', None, 'population', '因入学、入职、办理贷款等需要开具本人婚育情况证明。', '户籍或常住在本社区的居民'),
    ('residence-permit', '居住证办理', '居住证|暂住证', 'family-birth', False, 'wo', (15, 15), 'police', 1, 'id_copy,photo,housing', 'certificate', None, 'residence', '离开户籍地在本县居住半年以上的居民申领居住证。', '在本县居住半年以上的非本县户籍居民'),
    ('residence-certificate', '居住情况证明', '居住证明|住址证明', 'family-birth', False, 'w', (None, 1), 'civil', 1, 'id_copy,housing', 'register', None, 'hukou', '因入学、就业等需要开具在本社区居住的情况证明。', '在本社区居住的居民'),
    ('children-in-difficulty', '困境儿童基本生活保障', '困境儿童|事实无人抚养儿童', 'family-birth', True, 'wd', (None, 20), 'civil', 0, 'id_copy,hukou,child_id,bank,application,authorization', 'subsidy', None, 'social_assistance', '父母重残、重病等情形的困境儿童按月领取基本生活保障金。', '困境儿童和事实无人抚养儿童'),
    ('maternity-allowance', '生育津贴申领', '生育保险|产假津贴', 'family-birth', False, 'wo', (None, 15), 'medins', 1, 'id_copy,birth_cert,bank', 'register', None, 'social_insurance', '参加职工生育保险的女职工生育后申领生育津贴。', '参加生育保险的职工'),
    ('vaccination-card', '儿童预防接种证办理', '接种证|打疫苗本', 'family-birth', False, 'w', (None, 1), 'health', 1, 'birth_cert,hukou', 'certificate', None, 'population', '新生儿在社区卫生服务中心建立预防接种档案并领取接种证。', '0-6岁儿童的监护人'),
    # ---- 残疾人服务
    ('disability-certificate', '残疾证办理', '残疾人证|办残疾证|新办残疾证', 'disability', True, 'wd', (None, 20), 'dpf', 1, 'id_copy,hukou,photo,assessment,authorization', 'assessment', None, 'disability_law,disability_grading', '经评定符合标准的残疾人申领第二代残疾人证；行动不便者可申请上门评定。', '视力、听力、言语、肢体、智力、精神及多重残疾人'),
    ('disability-certificate-renewal', '残疾证换领', '残疾证到期|残疾证换证|残疾证补办', 'disability', True, 'wd', (None, 15), 'dpf', 0, 'id_copy,photo,disab_cert,authorization', 'certificate', 'any_disability', 'disability_law', '残疾证有效期满、等级变化或遗失损毁时，换领或补办残疾人证。', '持有残疾人证的本县户籍残疾人'),
    ('hard-disability-living-subsidy', '困难残疾人生活补贴', '残疾人补贴|残疾人生活补贴|两项补贴', 'disability', True, 'wd', (None, 20), 'civil', 0, 'id_copy,hukou,disab_cert,bank,application,authorization', 'subsidy', 'hard_disability', 'two_subsidies', '低保家庭中的残疾人按月领取生活补贴。', '持证残疾人中的低保对象'),
    ('severe-disability-care-subsidy', '重度残疾人护理补贴', '残疾人补贴|残疾人护理补贴|两项补贴', 'disability', True, 'wd', (None, 20), 'civil', 0, 'id_copy,hukou,disab_cert,bank,application,authorization', 'subsidy', 'care_subsidy', 'two_subsidies', '残疾等级为一、二级（含三级智力、精神残疾）的重度残疾人按月领取护理补贴。', '一、二级重度残疾人及三级智力、精神残疾人'),
    ('assistive-devices', '残疾人辅助器具适配', '辅具|轮椅申请|助听器', 'disability', True, 'wd', (None, 30), 'dpf', 0, 'id_copy,disab_cert,application,authorization', 'subsidy', 'aids', 'disability_law', '为肢体、视力、听力残疾人免费或补贴适配轮椅、助听器、盲杖等辅助器具。', '持证的肢体、视力、听力残疾人'),
    ('disability-rehabilitation', '残疾人康复救助', '康复训练|残疾儿童康复', 'disability', False, 'w', (None, 20), 'dpf', 1, 'id_copy,disab_cert,medical,application', 'subsidy', 'any_disability', 'disability_law', '残疾人（含残疾儿童）在定点机构接受康复训练，按标准给予救助。', '持证残疾人，0-6岁残疾儿童优先'),
    ('severe-disability-home-care', '重度残疾人托养服务', '托养|居家托养', 'disability', False, 'wd', (None, 20), 'dpf', 1, 'id_copy,disab_cert,application', 'subsidy', 'severe_care', 'disability_law', '为一、二级重度残疾人提供机构托养或居家托养服务补贴。', '本县户籍一、二级重度残疾人'),
    ('disability-fuel-subsidy', '残疾人机动轮椅车燃油补贴', '燃油补贴|残疾人车补', 'disability', False, 'w', (None, 20), 'dpf', 1, 'id_copy,disab_cert,bank', 'subsidy', 'fuel', 'disability_law', '下肢重度残疾、使用机动轮椅车的残疾人按年领取燃油补贴。', '使用机动轮椅车的重度肢体残疾人'),
    ('disabled-student-aid', '残疾学生及残疾人家庭子女助学', '残疾学生资助|助学金', 'disability', False, 'w', (None, 20), 'dpf', 1, 'id_copy,disab_cert,bank,application', 'subsidy', 'disabled_student', 'disability_law', '在校残疾学生和贫困残疾人家庭子女按学段领取助学补助。', '在校残疾学生及贫困残疾人家庭子女'),
    ('disability-employment', '残疾人就业创业扶持', '残疾人就业|残疾人创业补贴', 'disability', False, 'w', (None, 20), 'dpf', 1, 'id_copy,disab_cert,application', 'subsidy', 'disabled_job', 'disability_law,employment_law', '有就业意愿的残疾人登记求职、参加培训，自主创业按规定给予扶持。', '劳动年龄内有就业意愿的残疾人'),
    ('disability-home-modification', '残疾人家庭无障碍改造', '无障碍改造|扶手安装', 'disability', False, 'wd', (None, 30), 'dpf', 1, 'id_copy,disab_cert,housing,application', 'subsidy', 'severe_care', 'disability_law', '为重度残疾人家庭安装扶手、坡道等无障碍设施。', '本县户籍重度残疾人家庭'),
    ('disability-pension-subsidy', '重度残疾人城乡居民养老保险代缴', '残疾人养老保险代缴|代缴保费', 'disability', False, 'w', (None, 20), 'hrss', 1, 'id_copy,disab_cert', 'register', 'severe_care', 'resident_pension,disability_law', '政府为重度残疾人代缴部分或全部最低标准城乡居民养老保险费。', '参加城乡居民养老保险的重度残疾人'),
    ('disability-medical-insurance-subsidy', '残疾人医保参保资助', '残疾人医保补助', 'disability', False, 'w', (None, 20), 'medins', 1, 'id_copy,disab_cert', 'register', 'severe_care', 'disability_law', '对重度残疾人参加城乡居民医保的个人缴费给予资助。', '本县户籍重度残疾人'),
    ('disability-legal-aid', '残疾人法律援助', '法律援助|残疾人维权', 'disability', False, 'w', (None, 5), 'dpf', 1, 'id_copy,disab_cert', 'register', 'any_disability', 'disability_law', '残疾人合法权益受到侵害时申请法律咨询和法律援助。', '持证残疾人'),
    # ---- 就业与社保
    ('subsidy-4050', '“4050”灵活就业社保补贴', '4050补贴|4050|灵活就业补贴|社保补贴', 'employment-social-security', False, 'wo', (None, 20), 'hrss', 1, 'id_copy,unemployment,flexible_proof,bank', 'subsidy', '4050', 'employment_law,social_insurance', '女满40周岁、男满50周岁的就业困难人员灵活就业后，按规定享受社会保险补贴。', '“4050”就业困难人员'),
    ('unemployment-registration', '失业登记', '就业创业证|失业证|登记失业', 'employment-social-security', False, 'wo', (None, 1), 'hrss', 1, 'id_copy,photo', 'register', 'unemployed', 'employment_law', '劳动年龄内有劳动能力、有就业要求、处于无业状态的人员办理失业登记。', '劳动年龄内的失业人员'),
    ('unemployment-insurance-benefit', '失业保险金申领', '失业金|领失业金', 'employment-social-security', False, 'wo', (None, 5), 'hrss', 1, 'id_copy,unemployment,bank', 'register', 'unemployed', 'social_insurance', '参保缴费满一年、非本人意愿中断就业的失业人员申领失业保险金。', '符合条件的参保失业人员'),
    ('hard-to-employ-certification', '就业困难人员认定', '就业困难认定|就业援助', 'employment-social-security', False, 'w', (None, 10), 'hrss', 1, 'id_copy,unemployment,application', 'register', 'hard_to_employ', 'employment_law', '“4050”人员、残疾人、低保家庭成员等失业人员认定为就业困难人员，享受就业援助。', '已办理失业登记的就业困难人员'),
    ('vocational-training-subsidy', '职业技能培训补贴', '培训补贴|技能培训', 'employment-social-security', False, 'wo', (None, 20), 'hrss', 1, 'id_copy,unemployment', 'subsidy', None, 'employment_law', '参加职业技能培训并取得证书的劳动者，按规定申领培训补贴。', '城乡劳动者'),
    ('startup-guaranteed-loan', '创业担保贷款', '创业贷款|贴息贷款', 'employment-social-security', False, 'w', (None, 20), 'hrss', 2, 'id_copy,hukou,application', 'register', None, 'employment_law', '符合条件的创业者申请创业担保贷款并享受财政贴息。', '城镇登记失业人员、退役军人、返乡创业人员等'),
    ('pension-claim', '到龄领取养老金', '养老金领取|退休待遇|退休金|到龄领取', 'employment-social-security', True, 'wdo', (None, 20), 'hrss', 0, 'id_copy,social_card,bank,authorization', 'pension', 'pension_claim', 'social_insurance,retirement_age', '参保人员达到领取年龄且缴费满规定年限后，申请按月领取基本养老金（年龄以渐进式延迟退休规定为准）。', '参加基本养老保险、达到领取年龄的人员'),
    ('resident-pension-claim', '城乡居民养老保险待遇领取', '城乡居民养老金|居民养老金领取', 'employment-social-security', True, 'wd', (None, 15), 'hrss', 0, 'id_copy,hukou,bank,authorization', 'pension', 'resident_pension_claim', 'resident_pension', '参加城乡居民养老保险、年满60周岁的本县户籍居民按月领取养老金。', '年满60周岁的城乡居民养老保险参保人'),
    ('pension-face-check', '养老金资格认证', '刷脸认证|生存认证|待遇资格认证|领取资格认证', 'employment-social-security', True, 'wdo', (None, 1), 'hrss', 0, 'id', 'face', 'face_check', 'social_insurance', '领取养老金人员每年完成一次待遇资格认证，可手机刷脸，行动不便的由代办员上门协助。', '按月领取养老金的人员'),
    ('resident-pension-enrolment', '城乡居民养老保险参保登记', '居民养老保险|参保登记|交养老保险', 'employment-social-security', True, 'wdo', (None, 1), 'hrss', 0, 'id_copy,hukou,authorization', 'register', 'resident_pension_join', 'resident_pension', '年满16周岁（不含在校学生）、未参加职工养老保险的居民参加城乡居民养老保险。', '年满16周岁的非在校城乡居民'),
    ('resident-medical-insurance', '城乡居民医保参保缴费', '居民医保|医保缴费|交医保', 'employment-social-security', False, 'wdo', (None, 1), 'medins', 0, 'id_copy,hukou', 'register', 'resident_medical', 'medical_insurance', '未参加职工医保的城乡居民按年度参保缴费。', '未参加职工医保的城乡居民'),
    ('social-security-card', '社会保障卡申领', '社保卡|办社保卡|社保卡补办', 'employment-social-security', True, 'wdo', (None, 10), 'hrss', 0, 'id_copy,photo,authorization', 'certificate', None, 'social_insurance', '申领、补领、换领社会保障卡；行动不便者可由代办员上门采集照片。', '参保人员'),
    ('pension-transfer', '养老保险关系转移接续', '社保转移|养老保险转移', 'employment-social-security', False, 'wo', (45, 30), 'hrss', 0, 'id_copy', 'register', None, 'social_insurance', '参保人员跨地区流动就业时，转移接续基本养老保险关系。', '跨地区流动就业的参保人员'),
    ('flexible-employment-insurance', '灵活就业人员参保登记', '个体参保|灵活就业社保', 'employment-social-security', False, 'wo', (None, 1), 'hrss', 1, 'id_copy', 'register', 'flexible', 'social_insurance', '无雇工的个体工商户、灵活就业人员以个人身份参加职工养老保险。', '灵活就业人员'),
    ('funeral-subsidy', '参保人员丧葬补助金和抚恤金申领', '丧葬费|抚恤金', 'employment-social-security', False, 'w', (None, 15), 'hrss', 1, 'id_copy,hukou,bank', 'register', None, 'social_insurance', '参保人员因病或非因工死亡后，其遗属申领丧葬补助金和抚恤金。', '参保人员的遗属'),
    ('employment-recommendation', '就业岗位推荐', '找工作|招聘信息|岗位推荐', 'employment-social-security', False, 'wo', (None, 1), 'hrss', 0, 'id_copy', 'register', None, 'employment_law', '社区登记求职意向，推荐合适岗位和招聘会信息。', '有就业意愿的居民'),
    # ---- 养老与民生保障
    ('elderly-allowance', '高龄补贴', '高龄津贴|老年人补贴|80岁补贴|尊老金', 'elderly-livelihood', True, 'wd', (None, 15), 'civil', 0, 'id_copy,hukou,bank,application,authorization', 'subsidy', 'elderly', 'elderly_law', '本县户籍年满80周岁的老年人按月领取高龄津贴，到龄后由社区主动提醒或上门代办。', '年满80周岁的本县户籍老年人'),
    ('centenarian-allowance', '百岁老人长寿补贴', '百岁补贴|长寿补贴', 'elderly-livelihood', False, 'wd', (None, 15), 'civil', 0, 'id_copy,hukou,bank', 'subsidy', 'centenarian', 'elderly_law', '本县户籍百岁老人按月领取长寿补贴。', '年满100周岁的本县户籍老年人'),
    ('senior-preferential-card', '老年人优待证办理', '老年证|敬老卡|老年优待证', 'elderly-livelihood', True, 'wdo', (None, 5), 'civil', 0, 'id_copy,photo,authorization', 'certificate', 'senior_card', 'elderly_law', '年满60周岁的老年人办理优待证，享受乘车、游览等优待。', '年满60周岁的老年人'),
    ('home-care-service-subsidy', '居家养老服务补贴', '居家养老|养老服务补贴', 'elderly-livelihood', True, 'wd', (None, 20), 'civil', 0, 'id_copy,hukou,application,authorization', 'subsidy', 'home_care', 'elderly_law', '为高龄独居、低保等困难老年人提供居家养老服务补贴（上门助餐、助洁等）。', '80岁以上独居或60岁以上低保老年人'),
    ('elderly-home-modification', '特殊困难老年人家庭适老化改造', '适老化改造|老人家里装扶手', 'elderly-livelihood', False, 'wd', (None, 30), 'civil', 1, 'id_copy,housing,application', 'subsidy', 'senior_hardship', 'elderly_law', '为特殊困难老年人家庭安装扶手、防滑垫、紧急呼叫等设施。', '特殊困难老年人家庭'),
    ('dibao', '最低生活保障', '低保|低保申请|城市低保', 'elderly-livelihood', True, 'wd', (30, 30), 'civil', 0, 'id_copy,hukou,income,bank,application,authorization', 'subsidy', 'dibao', 'dibao_regulation,social_assistance', '家庭人均收入低于当地低保标准且财产符合规定的家庭申请低保（资格规则仅用于摸排，最终以收入财产核查为准）。', '共同生活的家庭成员人均收入低于低保标准的本县户籍家庭'),
    ('extreme-poverty-support', '特困人员救助供养', '五保|特困供养|三无人员', 'elderly-livelihood', True, 'wd', (30, 30), 'civil', 0, 'id_copy,hukou,income,application,authorization', 'subsidy', 'extreme_poverty', 'social_assistance', '无劳动能力、无生活来源、无法定赡养抚养扶养义务人的老年人、残疾人和未成年人申请救助供养。', '符合“三无”条件的老年人、残疾人、未成年人'),
    ('temporary-assistance', '临时救助', '急难救助|临时困难救助', 'elderly-livelihood', True, 'wd', (None, 10), 'civil', 0, 'id_copy,hukou,medical,application,authorization', 'subsidy', None, 'social_assistance', '因火灾、交通事故、突发重病等导致基本生活暂时出现严重困难的家庭申请临时救助。', '遭遇急难、基本生活暂时困难的家庭或个人'),
    ('medical-assistance', '医疗救助', '大病救助|医疗费救助', 'elderly-livelihood', False, 'w', (None, 20), 'medins', 1, 'id_copy,medical,bank,application', 'subsidy', 'medical_aid', 'social_assistance', '低保、特困等救助对象患病时，对医保报销后的个人自付费用给予救助。', '低保对象、特困人员等医疗救助对象'),
    ('low-income-family-certification', '低收入家庭认定', '低收入认定|低边家庭', 'elderly-livelihood', False, 'w', (30, 30), 'civil', 1, 'id_copy,hukou,income,application', 'subsidy', None, 'social_assistance', '家庭收入略高于低保标准的低收入家庭申请认定，享受专项救助。', '低收入家庭'),
    ('low-rent-housing', '廉租房申请', '廉租住房|住房保障|租房补贴', 'elderly-livelihood', False, 'wd', (None, 30), 'housing', 1, 'id_copy,hukou,income,housing,application', 'subsidy', 'low_rent', 'public_rental', '住房困难的低保家庭申请廉租住房实物配租或租赁补贴（现已并轨为公租房保障）。', '本县户籍住房困难的低保家庭'),
    ('public-rental-housing', '公共租赁住房申请', '公租房|保障房|申请公租房', 'elderly-livelihood', False, 'wd', (None, 30), 'housing', 1, 'id_copy,hukou,income,housing,application', 'subsidy', 'public_rental', 'public_rental', '城镇中等偏下收入住房困难家庭、新就业无房职工申请公共租赁住房。', '本县住房困难家庭'),
    ('housing-rent-subsidy', '城镇住房保障家庭租赁补贴', '租赁补贴|房租补贴', 'elderly-livelihood', False, 'w', (None, 30), 'housing', 1, 'id_copy,hukou,income,housing,bank', 'subsidy', 'public_rental', 'public_rental', '符合住房保障条件、自行租房的家庭按月领取租赁补贴。', '符合住房保障条件的家庭'),
    ('funeral-basic-service-waiver', '基本殡葬服务费用减免', '殡葬减免|丧葬费减免', 'elderly-livelihood', False, 'w', (None, 5), 'civil', 1, 'id_copy,hukou', 'register', None, 'social_assistance', '本县户籍困难群众去世后，减免遗体接运、火化等基本殡葬服务费用。', '本县户籍困难群众的家属'),
    ('heating-cooling-aid', '困难群众冬季取暖救助', '取暖补贴|冬季救助', 'elderly-livelihood', False, 'w', (None, 10), 'civil', 0, 'id_copy,bank', 'subsidy', 'hardship_heating', 'social_assistance', '冬季为低保、特困等困难群众发放取暖救助（示例项目）。', '低保对象、特困人员'),
    ('elderly-meal-assistance', '老年助餐服务', '老年食堂|助餐|社区食堂', 'elderly-livelihood', False, 'wd', (None, 3), 'civil', 0, 'id_copy', 'register', 'senior_card', 'elderly_law', '60周岁以上老年人在社区老年食堂就餐，高龄、困难老人享受助餐补贴。', '60周岁以上老年人'),
    ('emergency-call-device', '独居老人紧急呼叫设备安装', '一键呼叫|独居老人|紧急呼叫', 'elderly-livelihood', False, 'wd', (None, 10), 'civil', 0, 'id_copy,application', 'register', 'alone_senior', 'elderly_law', '为独居、空巢老年人免费安装一键紧急呼叫设备。', '独居、空巢老年人'),
]
# fmt: on

CONDITIONS = {
    "elderly": "本县户籍、年满80周岁。",
    "centenarian": "本县户籍、年满100周岁。",
    "senior_card": "年满60周岁。",
    "home_care": "本县户籍，80周岁以上独居老人或60周岁以上低保老人。",
    "hard_disability": "持有残疾人证、享受低保的本县户籍残疾人。",
    "care_subsidy": "本县户籍，残疾等级一级、二级，或三级智力、精神残疾，需要长期照护。",
    "any_disability": "持有残疾人证的本县户籍残疾人。",
    "aids": "持证的肢体、视力或听力残疾人。",
    "fuel": "下肢重度（一级、二级）肢体残疾，使用机动轮椅车。",
    "severe_care": "本县户籍，残疾等级一级、二级。",
    "disabled_student": "持证残疾人，且为在校学生。",
    "disabled_job": "持证残疾人，60周岁以下，处于失业或无业状态。",
    "pension_claim": "参加基本养老保险，男年满60周岁、女年满55周岁（示例规则：女职工50周岁等情形及渐进式延迟退休以经办口径为准），累计缴费满规定年限。",
    "resident_pension_claim": "本县户籍，参加城乡居民养老保险，年满60周岁。",
    "face_check": "正在按月领取养老金。",
    "resident_pension_join": "年满16周岁、不满60周岁，非在校学生，尚未参加基本养老保险。",
    "4050": "本县户籍，女满40周岁、男满50周岁、未满60周岁，处于失业状态或灵活就业。",
    "unemployed": "劳动年龄内，有劳动能力和就业要求，处于失业状态。",
    "hard_to_employ": "已办理失业登记，且为“4050”人员、持证残疾人或低保家庭成员之一。",
    "dibao": "本县户籍，尚未享受低保，家中有重病、重度残疾或无业失业人员（摸排条件；最终以家庭收入、财产核查为准）。",
    "extreme_poverty": "本县户籍，无子女等法定赡养人，年满60周岁或为重度残疾人（并须无劳动能力、无生活来源）。",
    "medical_aid": "患重病，且为低保对象或特困供养人员。",
    "public_rental": "本县户籍，家庭住房困难（并须符合收入标准）。",
    "low_rent": "本县户籍低保家庭，住房困难。",
    "one_child_reward": "只有一个子女，本人年满60周岁（示例条件）。",
    "one_child_cert": "夫妻只生育一个子女。",
    "resident_medical": "未在职参加职工基本医疗保险。",
    "flexible": "灵活就业人员（含无雇工的个体工商户）。",
    "hardship_heating": "低保对象或特困供养人员。",
    "alone_senior": "年满60周岁的独居老年人。",
    "senior_hardship": "年满60周岁，独居或享受低保的特殊困难老年人（示例条件）。",
}

TIPS = [
    (
        "pension-face-check",
        "刷脸认证时手机与脸部保持同一高度，光线充足、背景干净，摘下眼镜和帽子，按提示慢慢眨眼、张嘴；老人手抖的话把手机靠在桌上放稳再拍。",
    ),
    (
        "pension-face-check",
        "连续三次认证失败别再试，让老人休息一下，或者登记后由代办员上门用工作终端协助认证。",
    ),
    (
        "elderly-allowance",
        "老人快满80周岁时提前一个月准备材料，生日次月就能提交，别等满了再来跑一趟。",
    ),
    (
        "hard-disability-living-subsidy",
        "上门前先核对残疾证有效期和低保证，身份证、银行卡复印件当场收齐，让居民在委托书上签字或按手印。",
    ),
    (
        "disability-certificate",
        "肢体残疾评定要带齐近期病历和影像片子；行动不便的先登记，县残联会安排医生集中上门评定。",
    ),
    ("subsidy-4050", "“4050”补贴先看失业登记和灵活就业缴费记录是否连续，断缴的月份补不了。"),
    (
        "low-rent-housing",
        "廉租房申请前提醒居民把家庭所有成员的收入都如实申报，核查时查出来会被驳回，还要等一年才能再申请。",
    ),
    (
        "one-child-certificate",
        "办独生子女证时孩子的出生医学证明和户口本信息要一致，姓名有出入先去派出所更正。",
    ),
]


def _materials(keys: str) -> list[dict[str, Any]]:
    return [dict(MATERIALS[k]) for k in keys.split(",") if k]


def item_content(row: ItemRow) -> tuple[str, str, str, dict[str, Any]]:
    (
        code,
        name,
        aliases,
        category,
        proxy,
        channels,
        (statutory, promised),
        dept,
        trips,
        materials,
        steps,
        rule,
        docs,
        summary,
        audience,
    ) = row
    department, contact = DEPARTMENTS[dept]
    channel_list = [{"w": "window", "d": "doorstep", "o": "online"}[c] for c in channels]
    if proxy and "doorstep" not in channel_list:
        channel_list.append("doorstep")
    faq = [
        {
            "question": "可以请人代办吗？",
            "answer": "可以，代办人需携带本人及被代办人身份证件和委托书。",
        }
    ]
    fields = ItemFields.model_validate(
        {
            "aliases": [a for a in aliases.split("|") if a],
            "summary": summary + DEMO,
            "policy_basis": [DOCS[d] for d in docs.split(",") if d],
            "audience": audience,
            "conditions": CONDITIONS.get(rule or "", "详见政策依据，窗口可一次性告知。"),
            "eligibility_rule": R[rule] if rule else None,
            "materials": _materials(materials),
            "steps": [{"title": t, "detail": d} for t, d in STEPS[steps]],
            "statutory_days": statutory,
            "promised_days": promised,
            "department": department,
            "contact": contact,
            "channels": channel_list,
            "proxy_eligible": proxy,
            "trips": trips,
            "faq": faq if proxy else [],
        }
    )
    return code, name, category, fields.model_dump(mode="json")


# Synonym groups for search (table ``search_synonym``): words residents and workers use for
# the same thing. A query word in a group also searches the group's other words, ranked a
# little below the word as typed. Data, like the items: a county edits its own.
SYNONYMS = [
    "老人 老年人 高龄 老年 老人家 老头 老头子 老太太 老大爷",
    "退休金 养老金 退休工资 养老钱",
    "退休 到龄 退休待遇",
    "丢了 丢失 遗失 补办 补领 掉了 弄丢",
    "坏了 损坏 换领 换证",
    "过期 到期 换证 年审",
    "没工作 失业 下岗 没活干 待业 辞退 被辞退 裁员",
    "找工作 就业 求职 岗位推荐",
    "残疾 残障 伤残",
    "残疾人 残障人士 残疾人士",
    "生孩子 生育 生小孩 怀孕 二胎 二孩 三孩",
    "小孩 孩子 儿童 子女 婴儿 宝宝",
    "新生儿 刚出生 宝宝",
    "上户口 落户 报户口",
    "钱 补贴 津贴 补助 救助金",
    "补贴 补助 津贴",
    "房子 住房 房屋",
    "租房 租赁",
    "医保 医疗保险",
    "社保 社会保险",
    "社保卡 社会保障卡",
    "刷脸 人脸识别 认证 生存认证",
    "看病 医疗 住院",
    "穷 困难 贫困 低收入",
    "低保 最低生活保障 低保户",
    "五保 特困 五保户",
    "去世 死亡 过世 走了",
    "丧葬 殡葬 火化",
    "轮椅 辅具 辅助器具",
    "党员 党组织 党关系",
    "义工 志愿者 志愿服务",
    "团员 团组织 团关系",
    "转 转接 转移",
    "证明 开证明",
    "一个人住 独居 空巢",
    "吃饭 助餐 老年食堂",
    "装修 改造 适老化",
    "当兵 退役军人 退伍军人",
    "借钱 贷款",
    "学习 培训 技能培训 学技术 学手艺",
    "农村 城乡 乡下 农民",
    "着火 火灾 失火 车祸 交通事故",
    "打疫苗 接种 预防接种",
    "补贴申请 申领",
]
