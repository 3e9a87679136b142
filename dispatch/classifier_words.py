"""The fault classifier's word lists: which phrases point to which trade and which urgency, and how.

Data, not logic; ``dispatch.classifier`` applies them. Chinese phrases match as substrings, English
ones as whole words (``*`` allows any ending, otherwise a plural is allowed), and a phrase written
``A…B`` matches A followed by B in the same clause. A phrase inside a longer phrase that also
matched does not count (``燃气灶`` is an appliance, not also ``燃气``). The lists carry owners' words
as they write them: colloquial and dialect forms (马桶/坐厕/蹲坑, 埋汰, Cantonese 冇电/跳掣/雪柜/𨋢),
frequent typos and homophones (电题, 马通, 热水气, 钥是, 烟敢), pinyin (dianti, kongtiao) and English.

Category boundaries, read from what is broken, not where it is: the appliance engineer repairs an
appliance and its parts (a leaking water heater, a range hood's lamp); a dripping air conditioner is
HVAC; every piece of fire equipment is FIRE_SAFETY, and so are smoke and fire of unknown origin, while
a burning socket or meter box is the electrician's; a smell of gas of unknown origin is GENERAL (the
manager on duty traces it), of a named hob or water heater the appliance engineer's; current leaking
from anything (shocks) is the electrician's; doors, their frames, closers and hinges, access cards
and door entry systems, and smart locks whose battery ran flat, are LOCKSMITH (a fire door is
FIRE_SAFETY, a lift's doors ELEVATOR, a cupboard's GENERAL); dirt, vomit, rubbish, pests and clutter
blocking a fire escape are CLEANING wherever they are (a dirty lift too); the building's central hot
water is PLUMBING; the building fabric (walls, windows and their screens, roofs, railings, paving,
drain covers, gas pipes and meters) is GENERAL.

Urgency: URGENT is danger to people or damage spreading right now: someone trapped (in a lift, a
child locked in), a lift dropping, fire, smoke, a burning smell, sparks, a smell of gas, electric
shocks, no power to a whole flat or building, water leaking into another flat or through a
ceiling, a burst pipe or flooding, and any fault of fire equipment (the classifier adds that one
from the category). HIGH is an essential service lost or a risk soon (no water, a blockage, locked
out, a lift out of service, a leak in one's own flat, a blocked fire escape); LOW is cosmetic, a
question, or an owner saying there is no hurry; everything else is NORMAL. ``DANGER_PAIRS`` (at the
end) read a danger told across clauses.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kernel.vocabulary import Category, Priority

__all__ = [
    "DEFAULT_RULES",
    "DEFAULT_URGENCY_CUES",
    "DANGER_PAIRS",
    "DISPUTED_THINGS",
    "PEST_DAMAGE",
    "ENQUIRY_PHRASES",
    "OWNER_HURRY",
    "PLUMBED_IN",
    "SMOKE_SOURCES",
    "WATER_FROM_ABOVE",
    "SOMEONE_INSIDE",
    "THINGS_INSIDE",
    "KeywordRule",
    "PhraseRole",
    "DangerPair",
    "UrgencyCue",
]


class PhraseRole(StrEnum):
    """What a phrase says about the fault, which decides how it combines with the others in its clause."""

    THING = "THING"
    """Names the thing that is broken. Owns the parts said with it; is only a place when a locative
    follows ("消防栓旁边"), and yields to a fault of another trade in its clause."""
    PART = "PART"
    """A part or a power word that many trades' equipment has (灯, 门, 水管, 没电, battery): it counts
    for the thing it is said with ("油烟机的灯", "智能锁没电了"), for its own trade when alone."""
    SYMPTOM = "SYMPTOM"
    """What is wrong, typical of one trade but also suffered by others' equipment (漏水, 不排水): like a
    part, it counts for the thing it is said of ("热水器漏水" is the appliance engineer's); an absence
    word before it ("没有漏水") cancels it. Hazards (漏电) stay with their trade whatever the thing."""
    FAULT = "FAULT"
    """A fault that is one trade's job wherever it is (dirt, vomit, rubbish, pests): it outweighs the
    things of other trades in its clause, which are then only the place ("电梯里很脏")."""
    PLACE = "PLACE"
    """Where, not what (电梯厅, lift lobby): weighs nothing and hides the shorter words inside it."""


@dataclass(frozen=True, slots=True)
class KeywordRule:
    """A phrase that adds ``weight`` to ``category``'s score wherever it occurs in a description."""

    category: Category
    phrase: str
    weight: float
    role: PhraseRole = PhraseRole.THING


@dataclass(frozen=True, slots=True)
class UrgencyCue:
    """A phrase that points to ``urgency`` wherever it occurs; an URGENT cue decides on its own."""

    urgency: Priority
    phrase: str
    weight: float


@dataclass(frozen=True, slots=True)
class DangerPair:
    """A danger told in two halves that may stand in different clauses ("电梯停半道了，我爸一个人在里面"):
    URGENT when a phrase of ``subjects`` and one of ``dangers`` both occur, neither denied, and the
    report's trade is one of ``categories`` (empty: any) or it goes to triage. ``masks`` hide the
    everyday senses of a danger word."""

    name: str
    subjects: tuple[str, ...]
    dangers: tuple[str, ...]
    categories: frozenset[Category] = frozenset()
    masks: tuple[str, ...] = ()


def _rules(
    category: Category, weight: float, *phrases: str, role: PhraseRole = PhraseRole.THING
) -> tuple[KeywordRule, ...]:
    return tuple(KeywordRule(category, phrase, weight, role) for phrase in phrases)


def _cues(urgency: Priority, weight: float, *phrases: str) -> tuple[UrgencyCue, ...]:
    return tuple(UrgencyCue(urgency, phrase, weight) for phrase in phrases)


THING, PART, SYMPTOM, FAULT, PLACE = PhraseRole

# Weight tiers. HAZARD is reserved for faults whose trade never depends on the object (current
# leaking from a washing machine is still the electrician's job); FAULT names a fault that is one
# trade's wherever it is; STRONG names the thing that is broken, which decides the trade; SYMPTOM is
# a fault typical of one trade but also suffered by equipment of others (a leaking water heater goes
# to the appliance engineer), so a named thing outweighs it; WEAK and HINT only tip the balance when
# nothing more specific is said.
HAZARD = 6.0
FAULT_WEIGHT = 5.0
STRONG = 4.0
SYMPTOM_WEIGHT = 3.0
WEAK = 2.0
HINT = 1.0

DEFAULT_RULES: tuple[KeywordRule, ...] = (
    # --- plumbing -------------------------------------------------------------------------------
    *_rules(
        Category.PLUMBING, STRONG,
        "管道", "下水道", "下水到", "下水", "马桶", "马通", "码桶", "坐便器", "坐便", "坐厕", "蹲坑", "蹲便",
        "水龙头", "龙头", "水喉", "地漏", "爆管", "水压", "总阀", "角阀",
        "淋浴", "花洒", "莲蓬头", "洗手盆", "洗脸盆", "面盆", "台盆", "脸盆", "水槽", "洗菜池", "拖把池",
        "水池", "污水", "化粪池", "反水", "反臭", "返水", "返臭", "倒灌", "冲水", "水箱", "自来水",
        "水表", "堵塞", "停水", "去水",
        "plumb*", "toilet*", "toliet*", "tolet*", "loo", "wc", "cistern*", "tap", "faucet*", "faucit*",
        "drain", "drains", "drainage", "clog*", "sewage", "sewer*", "flush*", "water pressure", "sink", "basin*",
        "washbasin*", "shower*", "bathtub", "shutoff valve", "stopcock", "water meter", "water main*",
        "burst", "u-bend", "plunger",
        "shuiguan*", "shui guan*", "matong*", "ma tong*", "shuilongtou*", "shui long tou*", "longtou*",
        "xiashuidao*", "xia shui dao*", "dilou*", "di lou*",
    ),
    *_rules(Category.PLUMBING, STRONG, "水管", "水管子", "管子", "下水管", "排水管", "进水管", "软管", "阀门",
            "水阀", "pipe*", "hose*", "drain hose*", "drain pipe*", role=PART),
    *_rules(Category.PLUMBING, SYMPTOM_WEIGHT, "漏水", "渗水", "渗漏", "滴漏", "冒水", "跑水", "滋水", "不排水",
            "排水慢", "排不出", "下水慢", "没水", "没有水", "冇水", "没得水", "停咗水", "leak*", "leek*", "no water", "draining", "drained",
            "won't drain", "wont drain", "not draining", "doesn't drain", "loushui*", "lou shui*", role=SYMPTOM),
    # Water coming from the flat above is the plumber's, whatever it drips past on the way.
    *_rules(Category.PLUMBING, SYMPTOM_WEIGHT, "天花板…滴水", "天花板…渗水", "天花板…漏水", "天花板在滴", "水从楼上",
            "楼上…漏水", "楼上…渗水", "water coming through", "water…ceiling", "ceiling…leak*", "leak*…ceiling",
            "leak*…above", "water…above", "leak*…upstairs", "upstairs…leak*", role=SYMPTOM),
    *_rules(Category.PLUMBING, WEAK, "valve", "valves", role=PART),
    # No hot water is the building's central supply unless a water heater is named with it.
    *_rules(Category.PLUMBING, SYMPTOM_WEIGHT, "没有热水", "没热水", "冇热水", "热水不热", "热水都不热", "no hot water",
            role=SYMPTOM),
    *_rules(Category.PLUMBING, STRONG, "集中热水", "中央热水", "热水系统", "供热水", "供的热水", "central hot water",
            "hot water supply"),
    # Hot water that runs cold is the supply's, or the heater's when one is named with it.
    *_rules(Category.PLUMBING, SYMPTOM_WEIGHT, "热水…凉", "热水…冷的", "热水…冰的", "热水…温的", "hot water…cold",
            "hot water…lukewarm", role=SYMPTOM),
    # The trap under a basin or sink, as owners name it; urinals, baths and soil pipes (a urinal is
    # the plumber's, not the cleaners' for the word 小便 in it).
    *_rules(Category.PLUMBING, STRONG, "存水弯", "回水弯", "反水弯", "下水弯", "s弯", "p弯", "小便池", "小便斗", "小便器",
            "浴缸", "澡盆", "排污管", "污水管", "粪管", "反味", "返味", "urinal*"),
    *_rules(Category.PLUMBING, HINT, "卫生间", "厕所", "冲凉房"),
    # Blocked and dripping are what is wrong, said of the thing that is: an AC's or a washing machine's
    # drain hose blocked is theirs.
    *_rules(Category.PLUMBING, WEAK, "滴水", "堵", "塞住", "flood*", "overflow*", "drip*", "backed up", "backing up",
            role=SYMPTOM),
    *_rules(Category.PLUMBING, WEAK, "脏水"),
    *_rules(Category.PLUMBING, HINT, "water"),
    # --- electrical ----------------------------------------------------------------------------
    *_rules(Category.ELECTRICAL, HAZARD, "漏电", "触电", "带电", "被电了", "被电到", "电了一下", "电到我", "电到手",
            "麻手", "电手", "电人", "碰就电", "摸就电", "碰…电一下", "摸…电一下", "麻了一下", "electric shock*", "electrocut*",
            "gives…shock*", role=SYMPTOM),
    *_rules(
        Category.ELECTRICAL, STRONG,
        "跳闸", "跳匝", "跳扎", "跳掣", "跳电", "掉闸", "空开", "电闸",
        "总闸", "漏电保护器", "漏保", "空气开关", "插座", "插坐", "插做", "插销", "电井", "电表箱", "电闸箱", "插口", "插孔", "线路", "电路", "配电箱", "电表",
        "电箱", "电表箱", "路灯", "楼道灯", "吸顶灯", "感应灯", "日光灯", "充电桩", "短路", "保险丝",
        "断路器", "电压",
        "breaker*", "circuit*", "fuse*", "fusebox*", "consumer unit",
        "trip switch", "socket*", "outlet*", "wiring", "rcd", "charger", "doorbell", "mains",
        "eletric*", "electic*",
        "tingdian*", "ting dian*", "tiaozha*", "tiao zha*", "chazuo*", "cha zuo*", "dian deng*", "diandeng*",
        "kaiguan*", "kai guan*", "deng bu liang*", "dengbuliang*",
    ),
    # An outage is the electrician's wherever it is noticed ("电梯停电了"); during one, other things
    # are only the circumstance ("停电的时候应急灯不亮").
    *_rules(Category.ELECTRICAL, FAULT_WEIGHT, "停电", "断电", "outage", "blackout", "lost power",
            "power failure", "everything…went dead", "all…went dead", "电器都用不了", "电器都不能用",
            "power cut", role=FAULT),
    *_rules(Category.ELECTRICAL, 0.0, "停电的时候", "停电时", "during a power cut", role=PLACE),
    # The home itself is where a power word points when it is said of it ("家里没电").
    *_rules(Category.ELECTRICAL, 0.0, "家里", "全屋", "屋里", "整个家", "整个屋", "整个房子", "房子", "whole flat",
            "whole apartment", "whole house", "whole unit", role=PLACE),
    # A breaker that trips whenever something is switched on is the circuit's fault, whatever is plugged in.
    *_rules(Category.ELECTRICAL, FAULT_WEIGHT, "开…就跳", "开…也跳", "用…就跳", "用…也跳", "插…就跳", "插…也跳",
            "trips…whenever", "trips…every time", "trips the breaker", "trip the breaker", role=FAULT),
    # One circuit of the flat dead while the others work is the wiring's, whatever stopped on it.
    *_rules(Category.ELECTRICAL, FAULT_WEIGHT, "一路没电", "那一路…没电", "这一路…没电", "一路…不通电", "别的房间…有电",
            "其他房间…有电", "其它房间…有电", "别的插座…有电", "其他插座…有电", "other rooms…power", role=FAULT),
    *_rules(Category.ELECTRICAL, FAULT_WEIGHT, "别人家有电", "别人家都有电", "邻居家有电", "邻居家都有电", "全黑了",
            "所有电器", "neighbours have power", "neighbors have power", role=FAULT),
    *_rules(Category.ELECTRICAL, STRONG, "没电", "没有电", "冇电", "没得电", "照明", "照明灯", "电线", "灯泡", "灯管", "光管", "no power",
            "power", "electricity", "electric*", "wire*", "bulb*", "lamp*", "meidian*", "mei dian*", role=PART),
    *_rules(Category.ELECTRICAL, WEAK, "灯", "开关", "插头", "电源", "light*", "switch*", "plug*",
            "cable*", role=PART),
    # A battery belongs to whatever it powers; alone it says nothing about a trade.
    *_rules(Category.ELECTRICAL, 0.0, "电池", "低电量", "电量", "battery", "batteries", role=PART),
    *_rules(Category.ELECTRICAL, SYMPTOM_WEIGHT, "噼里啪啦", "噼啪", "crackl*", role=SYMPTOM),
    # Sparks or burning at a plug or a cord are the circuit's danger, whatever the cord feeds.
    *_rules(Category.ELECTRICAL, FAULT_WEIGHT,
            *(f"{cord}…{danger}" for cord in ("插头", "电源线", "电线", "插线板", "排插") for danger in ("火花", "冒火", "烧黑", "烧焦")),
            "plug…spark*", "cord…spark*", "cable…spark*", "spark*…plug", "spark*…cord", "spark*…cable",
            role=FAULT),
    *_rules(Category.ELECTRICAL, WEAK, "火花", "冒火", "flicker*", "spark*", "shock*", "arcing", role=SYMPTOM),
    # --- heating, ventilation, air conditioning -------------------------------------------------
    *_rules(
        Category.HVAC, STRONG,
        "空调", "空凋", "空调机", "冷气", "冷气机", "中央空调", "暖气", "暖器", "暖气片", "暖气管", "地暖",
        "供暖", "采暖", "分水器", "新风", "新风机", "冷凝水管", "外机", "内机", "室内机", "室外机",
        "出风口", "风口", "风机盘管", "温控", "温控器", "锅炉", "壁挂炉", "加氟", "缺氟", "排气扇",
        "换气扇", "排风扇", "排风机", "抽风机", "送风机", "通风",
        "ac", "a/c", "aircon*", "air con*", "air-con*", "air condition*", "airconditioner*", "hvac",
        "heating", "radiator*", "thermostat*", "ventilation", "vent*", "fresh air", "heat pump*",
        "central air", "split unit*", "no heat", "boiler*", "extractor fan*", "exhaust fan*",
        "kongtiao*", "kong tiao*", "nuanqi*", "nuan qi*", "dinuan*", "di nuan*", "xinfeng*", "xin feng*",
    ),
    # A fridge does not cool either: refrigeration words are symptoms, not the name of the thing.
    *_rules(Category.HVAC, SYMPTOM_WEIGHT, "制冷", "制热", "不凉", "唔凍", "唔冻", role=SYMPTOM),
    *_rules(Category.HVAC, WEAK, "热风", "冷风", "cooling", "heat"),
    *_rules(Category.HVAC, WEAK, "滤网", "风扇", "fan", "fans", "filter*", role=PART),
    # Ducts and flues carry air, but a water heater's flue is the heater's.
    *_rules(Category.HVAC, STRONG, "排风管", "排风管道", "排烟管", "排烟管道", "风管", "风道", "烟道", "duct*", "flue*",
            role=PART),
    # Cooking fumes are where a duct or a hood is at fault, not smoke.
    *_rules(Category.APPLIANCE, 0.0, "油烟", "cooking fumes", role=PLACE),
    # --- lifts ----------------------------------------------------------------------------------
    *_rules(
        Category.ELEVATOR, STRONG,
        "电梯", "电弟", "电题", "电悌", "电剃", "扶梯", "自动扶梯", "货梯", "客梯", "升降机", "升降梯", "观光梯", "𨋢",
        "轿厢", "困人", "扶手带", "平层", "电梯空调", "电梯里空调", "电梯里的空调", "电梯里的风扇", "电梯里风扇", "电梯里的灯",
        "电梯里灯", "电梯的空调", "电梯内空调", "电梯内的空调", "电梯里面的空调", "电梯的风扇", "电梯内的灯", "电梯里面的灯",
        "轿厢灯", "轿厢空调", "轿厢里的空调", "轿厢风扇", "lift light*", "elevator light*",
        "lift", "lifts", "elevator*", "elevater*", "elavator*", "elevtor*", "escalator*", "lift fan*",
        "elevator fan*", "dianti*", "dian ti*", "kunren*", "kun ren*",
    ),
    *_rules(Category.ELEVATOR, WEAK, "梯子", "被困", "trapped", "stuck between"),
    # The lobby in front of a lift is a place; what is wrong there is somebody else's trade.
    *_rules(
        Category.ELEVATOR, 0.0,
        "电梯厅", "电梯间", "电梯口", "电梯前室", "电梯门口", "电梯旁", "电梯旁边", "电梯附近", "电梯外面",
        "lift lobby", "elevator lobby", "lift area", "lift hall", "near the lift", "by the lift",
        "outside the lift", "next to the lift", "near the elevator", "by the elevator",
        "outside the elevator", "next to the elevator",
        role=PLACE,
    ),
    # --- fire safety ----------------------------------------------------------------------------
    *_rules(
        Category.FIRE_SAFETY, STRONG,
        "消防", "烟感", "烟敢", "感烟", "温感", "烟雾报警", "火警", "火灾报警", "报警主机", "灭火器", "灭火气",
        "灭火毯", "消防栓", "消火栓", "消防箱", "水带", "喷淋", "喷淋头", "防火门", "防火卷帘", "安全出口", "安全出口灯", "出口指示", "指示灯牌", "烟雾报警器", "报警的小圆盘",
        "疏散指示", "应急照明", "应急照明灯", "应急灯", "应急出口", "紧急出口", "逃生出口", "安全通道", "逃生通道",
        "出口灯", "消防水箱", "疏散", "手动报警", "手报", "manual call point*", "call point*",
        "烟味",
        "fire*", "smoke alarm*", "smoke detector*", "heat detector*", "detector*", "sprinkler*",
        "extinguisher*", "hydrant*", "hydrant cabinet*", "exit light*", "fire escape*", "hose cabinet*", "fire cabinet*", "emergency exit*", "exit sign*", "emergency light*",
        "evacuat*", "hose reel*",
        "xiaofang*", "xiao fang*", "xiaofangshuan*", "xiao fang shuan*", "yangan*", "yan gan*", "miehuoqi*",
        "mie huo qi*",
    ),
    # A fire, like smoke, is the trade's of the equipment burning (a meter box, a bathroom heater), else
    # the fire warden's (a bin, a corridor).
    *_rules(Category.FIRE_SAFETY, FAULT_WEIGHT, "着火", "起火", "失火", "火灾", "明火", "烧起来", "on fire", "caught fire",
            "flames", role=SYMPTOM),
    # A fire that might happen ("真要着火了人跑不出去") is the reason to fix something else.
    *_rules(Category.FIRE_SAFETY, 0.0, "真要着火", "万一着火", "要是着火", "如果着火", "一旦着火", "着火了怎么办",
            "万一起火", "如果起火", "if there's a fire", "if there is a fire", "in case of fire", "in case of a fire",
            role=PLACE),
    # Smoke is the trade's of the equipment it comes from (a socket, a lift), else the fire warden's,
    # and outweighs whatever else is named where it rises (a bin, a window).
    *_rules(Category.FIRE_SAFETY, FAULT_WEIGHT, "冒烟", "浓烟", "smoke*", role=SYMPTOM),
    *_rules(Category.FIRE_SAFETY, WEAK, "应急", "报警器", "烟", "burning", "alarm*"),
    # A fire escape is mostly where: its ordinary lamp or handrail is not fire equipment, so it weighs
    # no more than the lamp and a dispatcher decides (its fire doors, signs and clutter keep their words).
    *_rules(Category.FIRE_SAFETY, WEAK, "消防通道", "消防楼梯", "消防楼道", "消防梯"),
    # Its door is a fire door, and an exit locked or chained shut is the fire warden's, not the locksmith's.
    *_rules(Category.FIRE_SAFETY, FAULT_WEIGHT,
            *(f"{escape}…{what}" for escape in ("消防通道", "消防楼梯", "安全通道", "逃生通道", "安全出口", "疏散通道")
              for what in ("门", "锁")),
            "fire exit…locked", "fire escape…locked", "emergency exit…locked", "fire exit…chained", role=FAULT),
    # An alarm button alone is the fire alarm's; in a lift it is the lift's.
    *_rules(Category.FIRE_SAFETY, STRONG, "报警按钮", "报警按键", "alarm button*", role=PART),
    # --- locks and door entry -------------------------------------------------------------------
    *_rules(
        Category.LOCKSMITH, STRONG,
        "锁", "门锁", "锁芯", "锁头", "锁眼", "锁孔", "钥匙", "钥是", "锁匙", "指纹锁", "密码锁", "智能锁",
        "电子锁", "门禁", "门禁卡", "入户门", "进户门", "防盗门", "单元门", "房门", "卧室门", "卫生间门", "厕所门",
        "厨房门", "阳台门", "大门", "推拉门", "门框", "front door*",
        "sliding door*", "bedroom door*", "bathroom door*", "balcony door*", "开锁", "zhiwen suo*", "zhiwensuo*", "mima suo*", "mimasuo*", "反锁", "锁扣", "挂锁", "锁舌", "人脸识别",
        "lock*", "key", "keys", "deadbolt*", "cylinder", "padlock*", "latch*", "keypad*", "access card*",
        "fob*", "locksmith*", "suo huai*", "suohuai*", "yaoshi*", "yao shi*", "mensuo*", "men suo*", "menjin*", "men jin*",
    ),
    *_rules(Category.LOCKSMITH, WEAK, "合页", "铰链", "猫眼", "hinge*", "peephole*"),
    # A closer belongs to its door: a fire door's is the fire warden's.
    *_rules(Category.LOCKSMITH, STRONG, "闭门器", "关门器", "door closer*", role=PART),
    *_rules(Category.LOCKSMITH, WEAK, "门", "门把手", "door*", role=PART),
    # --- cleaning and pests ---------------------------------------------------------------------
    *_rules(
        Category.CLEANING, FAULT_WEIGHT,
        "垃圾", "拉圾", "打扫", "清扫", "没人扫", "保洁", "呕吐", "吐了", "狗屎", "鸟屎", "鸟粪", "粪", "屎", "粪便", "粑粑",
        "便便", "大便", "尿", "蟑螂", "小强", "曱甴", "老鼠", "耗子", "白蚁", "跳蚤", "臭虫", "消杀", "马蜂",
        "蜂窝", "灭鼠", "油污", "涂鸦", "乱涂乱画", "小广告", "牛皮癣", "死猫", "死老鼠", "烟头", "脏",
        "埋汰", "邋遢", "污糟", "龌龊", "脏兮兮", "全是灰", "都是灰", "好多灰", "积灰", "灰尘", "没擦", "没人擦", "擦干净",
        "脚印", "泥巴", "污渍", "污迹", "油渍", "口香糖", "蜘蛛网", "大小便", "小便", "撒尿", "随地", "乱扔", "乱丢",
        "乱画", "画得", "涂得", "写满", "黏糊糊", "粘糊糊", "黏黏", "洒了", "泼了", "打翻",
        "rubbish", "trash", "garbage", "bin", "bins", "litter*", "clean", "cleaning", "cleaner", "cleaners",
        "unclean", "be cleaned", "get cleaned", "need* cleaned", "dirty", "dusty", "filthy", "poop*",
        "poo", "dog mess", "droppings", "vomit*", "puke*", "threw up", "urine", "pee", "peed", "peeing",
        "dead bird*", "dead rat*", "dead mouse", "dead cat*", "dead animal*", "cockroach*",
        "roach*", "rat", "rats", "mice", "pest*", "wasp*", "termite*", "graffiti", "spill*", "dumped",
        "cigarette butt*", "recycling", "footprint*", "mud", "muddy", "mop*", "grime", "grimy", "chewing gum", "cobweb*", "mess",
        "messy", "faeces", "feces", "excrement", "wee", "虫子", "死虫", "飞虫", "小虫", "bugs", "insects", "蚂蚁",
        "蜈蚣", "飞蛾", "蛾子", "潮虫", "鼠患", "死鱼", "死鸟", "死狗", "死蛇", "dead fish",
        "碎玻璃", "玻璃渣", "玻璃碴", "laji*", "la ji*", "dasao*", "da sao*", "baojie*", "bao jie*",
        role=FAULT,
    ),
    # Clutter in a fire escape is the cleaners' to clear: the escape is only where it is.
    *_rules(Category.CLEANING, FAULT_WEIGHT, "通道…堵", "通道…堆", "通道被", "堆满", "堆了", "堆放", "堆着", "堆在", "占用", "占道",
            "blocked by", "exit blocked", "escape blocked", "exit is blocked", "escape is blocked", "clutter*", "junk",
            role=FAULT),
    # A bin is a thing, and not dirt itself: a bin on fire is the fire warden's.
    *_rules(Category.CLEANING, STRONG, "垃圾桶", "垃圾箱", "垃圾道", "垃圾通道", "rubbish chute*", "garbage chute*"),
    *_rules(Category.CLEANING, WEAK, "垃圾房", "垃圾站", "垃圾间", "bin room*", "bin area*", "bin store*"),
    *_rules(
        Category.CLEANING, WEAK,
        "臭", "臭味", "异味", "怪味", "骚", "灰", "滑", "清理", "泥", "乱七八糟", "恶心", "蚊子", "苍蝇", "落叶", "树叶", "杂物", "结冰",
        "slipp*", "fallen leaves", "pond*", "breeding", "smell*", "stink*", "sticky", "stain*", "flies", "mosquito*",
        "ants", "dust*",
    ),
    # --- appliances -----------------------------------------------------------------------------
    *_rules(
        Category.APPLIANCE, STRONG,
        "热水器", "电热水器", "热水气", "灶头", "电暖器", "电暖气", "取暖器", "小太阳", "油汀", "热水机", "油烟机", "烟机", "燃气灶", "煤气灶", "煤气炉", "燃气炉", "灶台", "灶具",
        "洗碗机", "冰箱", "冰相", "雪柜", "冰柜", "冷柜", "洗衣机", "洗衣鸡", "洗衣几", "干衣机", "烘干机",
        "微波炉", "烤箱", "蒸箱", "蒸烤", "浴霸", "净水器", "软水机", "饮水机", "电磁炉", "可视对讲",
        "垃圾处理器", "消毒柜", "消毒碗柜", "除湿机", "抽湿机", "空气净化器", "点火器", "点火针",
        "对讲机", "电视", "电视机",
        # small appliances and their dialect or shop names, so a dead one is not read from its symptom
        "吹风机", "电吹风", "风筒", "电水壶", "烧水壶", "热水壶", "电热水壶", "加湿器", "扫地机", "扫地机器人", "空气炸锅",
        "豆浆机", "破壁机", "榨汁机", "料理机", "咖啡机", "电饭锅", "电压力锅", "高压锅", "电风扇", "落地扇", "台扇",
        "洗烘一体机", "洗烘", "净水机", "纯水机", "集成灶", "投影仪", "机顶盒", "电热毯", "暖风机", "烘鞋器",
        "hair dryer*", "hairdryer*", "kettle*", "humidifier*", "air fryer*", "rice cooker*", "robot vacuum*",
        "pressure cooker*", "projector*", "bath heater*", "yuba",
        "water heater*", "hot water tank*", "geyser*", "fridge*", "frige*", "refrigerator*", "freezer*",
        "dishwasher*", "washing machine*", "dryer*", "oven*", "microwave*", "range hood*",
        "cooker hood*", "extractor hood*", "hob", "hobs", "cooktop*", "stove*", "burner*", "intercom*",
        "purifier*", "garbage disposal*", "appliance*", "pilot light", "dehumidifier*",
        "reshuiqi*", "re shui qi*", "youyanji*", "you yan ji*", "bingxiang*", "bing xiang*", "xiyiji*",
        "xi yi ji*", "ranqizao*", "ranqi zao*",
    ),
    # Dishes or clothes left dirty are the machine's fault, not the cleaners' job.
    *_rules(Category.APPLIANCE, SYMPTOM_WEIGHT, "打不着火", "点不着", "点唔着", "打不着", "洗不干净", "won't ignite",
            "won't light", "leaves…dirty", "doesn't clean", "does not clean", "not cleaning", "won't clean",
            "spin cycle", role=SYMPTOM),
    # A washer is also the rubber ring in a tap; a door intercom also serves lifts.
    *_rules(Category.APPLIANCE, WEAK, "灶", "门铃", "对讲", "电饭煲", "热水", "washer", "washers", "hot water",
            "spin", "tv", "television*"),
    # A smart toilet seat's heating, washing and remote are electronics, the appliance engineer's; the
    # bowl, its flush and its seal stay the plumber's.
    *_rules(Category.APPLIANCE, STRONG, "智能马桶盖", "智能盖板", "马桶盖板", "电子马桶盖", "马桶…加热", "马桶…遥控",
            "马桶…烘干", "马桶…温水", "坐圈…加热", "座圈…加热", "座圈…不热", "坐便…加热", "smart toilet seat*", "bidet seat*", "heated toilet seat*"),
    # A smell of gas said with the gas appliance it comes from is that appliance's, even "beside" it.
    *_rules(Category.APPLIANCE, FAULT_WEIGHT,
            *(f"{appliance}…{smell}" for appliance in ("燃气灶", "煤气灶", "灶台", "灶具", "集成灶", "热水器", "壁挂炉")
              for smell in ("燃气味", "煤气味", "天然气味", "漏气")),
            role=FAULT),
    # --- the building fabric --------------------------------------------------------------------
    *_rules(
        Category.GENERAL, STRONG,
        "墙面", "墙体", "窗户", "窗框", "纱窗", "窗纱", "防蚊网", "瓷砖", "地砖", "墙砖",
        "空鼓", "石膏板", "吊顶", "地板", "踢脚线", "滑轨", "吊柜", "柜的门", "柜子的门", "柜子门", "cupboard door*", "cabinet door*", "wardrobe door*", "栏杆", "拦杆",
        "护栏", "道闸", "路面", "塌陷", "墙皮", "漏雨", "渗雨", "外墙", "衣柜", "柜门", "橱柜",
        "晾衣架", "健身器材", "滑梯", "秋千", "休闲椅", "长椅", "油漆", "掉漆", "石板", "防水",
        "wall*", "window*", "fly screen*", "flyscreen*", "window screen*", "insect screen*",
        "mosquito net*", "mosquito mesh", "tile*", "plaster*", "paint*", "railing*",
        "handrail*", "fence*", "pothole*", "barrier*", "roof*", "draught*",
        "wardrobe*", "cupboard*", "cabinet*", "skirting*", "floorboard*", "bench*",
        "paving", "repaint*",
        "qiangmian*", "qiang mian*", "chuanghu*", "chuang hu*", "shachuang*", "sha chuang*", "cizhuan*",
        "ci zhuan*",
    ),
    # Cracks and mould are what is wrong with walls and ceilings, but a cracked toilet seat is the plumber's.
    *_rules(Category.GENERAL, SYMPTOM_WEIGHT, "裂缝", "开裂", "发霉", "crack*", "mould*", "mold*", role=SYMPTOM),
    # A crack is what is wrong with whatever is said to be cracked ("进水管裂了" is a pipe's).
    *_rules(Category.GENERAL, WEAK, "裂", role=SYMPTOM),
    *_rules(Category.GENERAL, WEAK, "墙", "塌", "窗", "天花板", "天花", "楼顶", "台阶", "扶手", "坑", "装修",
            "漏风", "ceiling*", "floor", "playground", "swing"),
    *_rules(Category.GENERAL, WEAK, "玻璃", "把手", "密封条", "胶条", "glass", "handle*", "seal*", role=PART),
    # A gas smell whose source is unknown is the building's, for the manager on duty to trace; said with a
    # hob or a water heater it is that appliance's.
    *_rules(Category.GENERAL, SYMPTOM_WEIGHT,
            "燃气味", "煤气味", "天然气味", "液化气味", "燃气的味", "煤气的味", "天然气的味", "臭鸡蛋味", "燃汽味", "煤起味",
            "燃气泄漏", "煤气泄漏", "燃气漏气", "煤气漏气", "臭鸡蛋", "gas味", "gas 味", "gas smell*", "gas odo*",
            "smell of gas", "smell gas", "smells of gas", "smells like gas", "gas leak*", "leaking gas",
            "rotten egg*", "ran qi wei*", "ranqiwei*", "meiqiwei*", "mei qi wei*", role=SYMPTOM),
    *_rules(Category.GENERAL, WEAK, "燃气", "煤气", "天然气", "液化气", "gas"),
    *_rules(Category.GENERAL, 0.0, "门口", "家门口", "大门口", "doorstep", "doorway", role=PLACE),
    # A parking-space lock is a bollard, not a door's lock; noise from neighbours is the manager's.
    *_rules(Category.GENERAL, STRONG, "地锁", "车位锁", "parking lock*", "屋顶", "房顶", "瓦片", "雨棚", "雨篷",
            "遮阳棚", "晾衣杆", "晒衣架"),
    *_rules(Category.GENERAL, WEAK, "噪音", "太吵", "noise", "noisy"),
    # Drain covers and gas pipes and meters are the building's, not the plumber's.
    *_rules(Category.GENERAL, STRONG, "井盖", "下水道盖", "窨井", "雨水篦", "篦子", "manhole*", "drain cover*", "drain grate*",
            "燃气管", "煤气管", "天然气管", "燃气表", "煤气表", "gas pipe*", "gas meter*"),
    # The pipes, hoses and valves of the gas supply, and gas bottles, are the building's too: the
    # plumber's words for them ("管子", "阀门") said right after the gas, or anywhere after its meter
    # or bottle, are hidden in the longer phrase. A hob named in between keeps its hose.
    *_rules(Category.GENERAL, STRONG, "煤气罐", "煤气瓶", "液化气罐", "液化气瓶", "气罐", "气瓶", "gas bottle*",
            "gas cylinder*",
            *(f"{gas}{joint}{part}" for gas in ("燃气", "煤气", "天然气", "液化气") for joint in ("", "的")
              for part in ("管子", "管道", "软管", "胶管", "阀门", "接头")),
            *(f"{equipment}…{part}" for equipment in ("燃气表", "煤气表", "气罐", "气瓶")
              for part in ("管子", "管道", "软管", "胶管", "阀门", "阀", "接头")),
            "gas pipe*", "gas hose*", "gas valve*"),
)

# Partly enquiries: an owner asking how something works is LOW even about fire equipment.
ENQUIRY_PHRASES: tuple[str, ...] = (
    "想问", "咨询", "问一下", "多久换", "多久检查", "多久一次", "可以自己", "自己装", "自己换", "question",
    "just asking", "how often", "wondering", "can i install", "can i replace", "am i allowed",
)

# Appliances plumbed into the water supply: their pipes are the plumber's work as much as the
# appliance engineer's, and people who know both trades split on them (a washing machine's hoses
# come with the machine and are its own).
PLUMBED_IN: tuple[str, ...] = ("热水器", "电热水器", "热水气", "热水机", "water heater*", "geyser*", "hot water tank*")

# Water coming down from the flat above: the plumber's fault wherever it lands ("渗到电表箱里",
# "onto the sockets"), where the trade of what it lands on is also needed.
WATER_FROM_ABOVE: tuple[str, ...] = tuple(
    phrase
    for above, water in (
        *((above, water) for above in ("楼上", "上面那家", "上面邻居", "上层") for water in ("漏", "渗", "滴", "水下来", "往下流", "流水", "淌水")),
        *((above, water) for above in ("upstairs", "from above", "flat above") for water in ("leak*", "drip*", "seep*", "water", "pour*")),
    )
    for phrase in (f"{above}…{water}", f"{water}…{above}")
)

# Door intercoms and doorbells: the labelled set gives them to the appliance engineer, writers of the
# development sets to the locksmith (door entry) or the electrician. Whoever reads one decides.
DISPUTED_THINGS: tuple[str, ...] = ("可视对讲", "对讲", "门铃", "intercom*", "doorbell*", "entryphone*",
                                     # a car park's barrier: building fabric to the lists, access control to owners
                                     "道闸", "车闸", "parking barrier*", "boom gate*")

# Something pests chewed or gnawed through: the pest control is the cleaners', the repair the trade's of
# what was damaged (a cable, a pipe, a door). Both are needed, so a dispatcher decides who goes first.
PEST_DAMAGE: tuple[str, ...] = tuple(
    f"{pest}…{verb}" for pest in ("老鼠", "耗子", "鼠", "白蚁", "虫") for verb in ("咬", "啃", "蛀")
) + ("chewed", "gnawed", "rats ate", "mice ate")

# Smoke that someone makes on purpose: a cigarette, a barbecue, paper burnt for the dead. Whether it is
# a fire, a nuisance for the cleaners or the manager's business is for a dispatcher to say.
SMOKE_SOURCES: tuple[str, ...] = (
    "抽烟", "吸烟", "抽香烟", "烟头", "烧纸", "烧烤", "烤串", "烤肉", "撸串", "熏腊肉", "放鞭炮", "烧香",
    "cigarette*", "someone smoking", "people smoking", "barbecue*", "bbq",
)

# Water and a neighbour's flat or a ceiling in one clause, in either order: water spreading where it
# does damage ("楼上渗水到我家", "楼下说我家漏水", "ceiling is dripping").
_WATER_ZH = ("漏", "渗", "滴", "水下来", "往下流", "流水", "淌水", "积水")
_ELSEWHERE_ZH = ("楼上", "楼下", "天花板", "天花", "吊顶", "顶上", "邻居", "隔壁", "他家", "她家", "对门")
_WATER_EN = ("leak*", "drip*", "seep*", "water")
_ELSEWHERE_EN = ("ceiling*", "above", "upstairs", "downstairs", "below", "neighbo*")
_SPREADING_WATER = tuple(
    phrase
    for water, elsewhere in (
        *((water, elsewhere) for water in _WATER_ZH for elsewhere in _ELSEWHERE_ZH),
        *((water, elsewhere) for water in _WATER_EN for elsewhere in _ELSEWHERE_EN),
    )
    for phrase in (f"{water}…{elsewhere}", f"{elsewhere}…{water}")
)
# Someone inside: a person and "在里面 / inside" in one clause. Trapping only when what is wrong is a
# lift or a lock ("电梯卡在十楼，里面有老人"); someone inside a lift that is merely dirty is not trapped.
_PERSON_ZH = ("人", "我", "我们", "孩子", "小孩", "宝宝", "老人", "妈", "爸", "儿子", "女儿", "老婆", "老公", "邻居", "奶奶",
              "爷爷", "外婆", "外公", "阿姨", "伯伯", "小哥", "师傅", "老太", "老头", "老汉", "娃", "细路", "阿婆", "阿伯", "俺")
# "里面" as Shanghainese (里厢), Cantonese (入面, 里边), Sichuanese (里头) and northern speech say it.
_INSIDE_ZH = ("在里面", "在里头", "在里厢", "在入面", "在里边", "关在", "关里", "困在", "卡在里")
_PERSON_EN = ("someone", "somebody", "people", "person", "kid*", "child*", "baby", "toddler", "son", "daughter",
              "wife", "husband", "mum", "mom", "mother", "dad", "father", "neighbo*", "granny", "grandma", "grandpa",
              "he", "she", "they", "we", "i'm", "i am")
SOMEONE_INSIDE: tuple[str, ...] = (
    "里面有人", "里面有…人", "有人在里面", "人在里面", "在里面出不来", "里面出不来", "卡在里面", "kid inside",
    *(f"{inside}有{who}" for inside in ("里面", "里头", "里厢", "入面", "里边") for who in ("人", "个", "两", "几", "小孩", "孩子", "老人")),
    *(f"{inside}…关着" for inside in ("里面", "里头", "里厢", "入面")), "关着…人", "关着…孩", "关着…老",
    "limian you*", "li mian you*", "litou you*", "li tou you*",
    "child inside", "baby inside", "someone inside", "people inside",
    *(f"{person}…{inside}" for person in _PERSON_ZH for inside in _INSIDE_ZH),
    *(f"{person}…反锁" for person in _PERSON_ZH[3:]),
    *(f"{person}…{inside}" for person in _PERSON_EN for inside in ("inside", "still in the lift", "still in the elevator")),
    *(f"{person} {verb} in the {lift}" for person in _PERSON_EN for verb in ("is", "are", "am", "'s") for lift in ("lift", "elevator")),
    *(f"{person}…locked" for person in ("toddler", "kid*", "child*", "baby", "son", "daughter")),
)

# What is inside is a thing, not a person: "钥匙在里面" is someone locked out, not in.
THINGS_INSIDE: tuple[str, ...] = (
    "钥匙锁在里面", "钥匙在里面", "钥匙忘在里面", "钥匙落在里面", "东西在里面", "衣服在里面", "key inside", "keys inside",
    "keys are inside", "key is inside", "keys locked inside",
)

# An owner's own hurry: HIGH, never URGENT by itself (owners write it on every leak), and no evidence of
# danger for the URGENT safety net either, which would otherwise learn it from the dangers it is written on.
OWNER_HURRY: tuple[str, ...] = ("尽快", "快点", "紧急", "赶紧", "马上", "urgent", "asap", "right away", "immediately", "priority")

# URGENT means someone may get hurt or property is being destroyed right now, and beats anything an
# owner writes about their own hurry (``urgent pls`` is only HIGH: owners write it on every leak).
DEFAULT_URGENCY_CUES: tuple[UrgencyCue, ...] = (
    # someone trapped; a lift falling
    *_cues(
        Priority.URGENT, 6.0,
        "困人", "困了人", "困着人", "人被困", "困了", "被困", "困住", "困在", "梯…往下掉", "梯…掉下", "突然下降",
        "梯…下降…快", "关在里面", "关在电梯", "被关", "锁在里面", "反锁在", "被锁在",
        "锁在屋里",
        "下坠", "往下坠", "坠落", "溜梯", "冲顶", "蹲底", "突然往下掉", "电梯往下掉", "梯往下掉", "急坠",
        "kun ren*", "kunren*", "trapped", "stuck inside", "stuck in the lift", "stuck in the elevator",
        "stuck in lift", "stuck in elevator", "stuck in a lift", "stuck in an elevator", "locked inside",
        "locked in the",
        "i can't get out", "we can't get out", "he can't get out", "she can't get out", "they can't get out",
        "can't get him out", "can't get her out", "can't get them out", "locked himself", "locked herself", "locked themselves",
        "dropped suddenly", "dropped a few", "plunged", "free fall", "between floors", "两层中间", "两层之间",
        "楼中间", "停在半空", "从里面反锁", "从里面锁", "locked…from inside", "locked…from the inside",
        # caught by a lift's doors or an escalator; a lift whose doors open on an empty shaft or that runs on
        "夹住…手", "夹住…脚", "夹住…人", "夹住…孩", "夹住…老人", "夹到…手", "夹到…脚", "夹到…人", "夹到…孩",
        "手…被…夹", "脚…被…夹", "人被…夹", "孩…被…夹", "夹伤", "卷进", "卷入", "卡进扶梯", "卡进电梯", "卡进…缝", "人出不来", "人出不去",
        "里面…出不来", "出不来…里面", "没有轿厢", "轿厢没", "轿厢不在", "门开…空的", "黑洞洞", "空井道",
        "梯…停不下来", "梯…停不住", "冲到顶", "caught in the door*", "trapped…escalator", "caught in the escalator",
        "doors open…no car*", "empty shaft", "lift…won't stop", "elevator…won't stop",
        "开着门…走", "开着门…运行", "开着门就", "门…开着…运行", "门关不上…运行", "门没关…走", "门没关…运行", "开门运行",
        "梯…反转", "梯…倒转", "电梯井…水", "井道…水", "底坑…水", "moving with…door* open", "door* open…moving",
        "lift shaft…water", "water…lift shaft", "escalator…revers*",
        "消防通道…锁", "消防通道…打不开", "安全出口…锁", "安全出口…打不开", "逃生通道…锁", "逃生…打不开", "消防门…锁死",
        "fire exit…locked", "fire escape…locked", "emergency exit…locked",
    ),
    # fire, smoke, a burning smell, sparks
    *_cues(
        Priority.URGENT, 6.0,
        "着火", "起火", "失火", "明火", "火苗", "冒烟", "浓烟", "都是烟", "烟很大", "烧起来", "烟味", "焦味",
        "烧焦", "糊味", "焦糊", "烧糊", "胶皮味", "塑料味", "烧的味", "一股烧", "烧黑", "火花", "冒火",
        "噼里啪啦", "噼啪", "on fire", "caught fire", "flames", "smoke*", "burning", "burnt smell",
        "smells burnt", "smell of burning", "smells hot", "smells…hot", "smell…burn*", "hot smell", "melting", "scorch*", "spark*",
        "arcing", "crackl*",
    ),
    # people hurt or about to be: falling objects, injuries
    *_cues(
        Priority.URGENT, 6.0,
        "砸伤", "差点砸", "砸下来", "高空坠物", "随时会掉", "要掉下来", "快掉下来", "快要掉",
        "摇摇欲坠", "受伤", "流血", "摔伤", "割伤", "夹伤", "hit someone", "nearly hit", "could fall on",
        "about to fall", "injur*", "bleeding", "falling off the building", "fell from", "hanging loose",
        "摔倒", "跌倒", "摔下", "fell down", "fell over", "someone fell",
        "风一吹就晃", "下面是人行道", "往外倒", "要倒了", "快倒了", "倒塌", "塌了", "坍塌", "塌下来", "往下掉…块", "砸坏",
        "collaps*", "about to come down",
        "井盖不见", "井盖丢", "井盖…没了", "井盖被偷", "掉进去", "会掉进", "missing manhole", "manhole…missing",
        "open manhole", "压在电线", "电线断", "电线…断了", "电线掉", "电线…落地", "downed wire*", "power line*…down",
    ),
    # gas
    *_cues(
        Priority.URGENT, 6.0,
        "燃气味", "煤气味", "天然气味", "液化气味", "燃气的味", "煤气的味", "天然气的味", "臭鸡蛋味",
        "燃气泄漏", "煤气泄漏", "燃气漏", "煤气漏", "漏燃气", "漏煤气", "闻到燃气", "闻到煤气", "闻到天然气",
        "燃气…味", "煤气…味", "gas味", "gas 味", "gas smell*", "smell of gas", "smell gas", "smells of gas",
        "smells like gas", "smelling gas", "gas leak*", "leaking gas", "rotten egg*", "gas…smell*",
        "燃气…漏气", "煤气…漏气", "天然气…漏气", "液化气…漏气", "燃气管…漏", "煤气管…漏", "天然气管…漏",
        "烟道脱落", "烟道…掉", "烟道…断", "废气", "一氧化碳", "煤气中毒", "燃气…气味", "气罐…味", "煤气罐…味",
        "液化气罐…味", "燃气报警", "煤气报警", "carbon monoxide", "co alarm*", "flue…loose", "flue…detached",
        "气管…漏气", "燃气表…嘶", "燃气…嘶嘶", "煤气…嘶嘶", "天然气…嘶嘶", "gas…hissing", "hissing…gas",
    ),
    # shocks
    *_cues(
        Priority.URGENT, 6.0,
        "漏电", "触电", "电到", "电了一下", "被电", "麻了一下", "麻手", "手麻", "电人", "电击", "带电",
        "shock*", "electrocut*", "tingl*", "zapped",
        "线头…水", "电线…滴水", "电线…进水", "电箱…进水", "电箱…水", "水…电箱", "wire*…wet", "wet…wire*",
    ),
    # no power to a whole flat or building
    *_cues(
        Priority.URGENT, 6.0,
        "停电", "断电", "冇电", "没得电", "家里没电", "家里都没电", "家里全没电", "家里突然没电", "家里全部没电",
        "家里没有电", "全家没电", "全家都没电", "全屋没电", "全屋都没电", "整个家没电", "整个家都没电", "整个房子没电", "整个房子都没电",
        "屋里没电", "屋里都没电", "房子没电", "全部没电", "全都没电", "一点电都没", "整栋楼没电", "全黑了",
        "所有电器", "电器都不能用", "别人家有电", "别人家都有电", "邻居家有电", "邻居家都有电",
        "whole…electric*", "entire…electric*", "lost electricity", "neighbours have power",
        "neighbors have power", "neighbours are fine", "neighbors are fine",
        "power cut", "power outage", "outage", "blackout", "power is out", "power's out", "power went out",
        "power's gone", "power is off", "power has gone", "no electricity", "whole…power", "entire…power",
        "power…whole", "no power…flat", "no power…apartment", "no power…house", "no power…home",
        "no power…unit", "tingdian*", "ting dian*",
    ),
    # water leaking into another flat, through a ceiling; burst pipes and floods
    *_cues(
        Priority.URGENT, 6.0,
        "漏…楼下", "渗…楼下", "滴…楼下", "漏…他家", "渗…他家", "漏…邻居", "渗…邻居", "漏…隔壁", "渗…隔壁",
        "楼下…漏", "楼下…渗", "楼上…漏", "楼上…渗", "楼上…滴", "从楼上…水", "天花板…滴", "天花板…渗",
        "天花板…漏", "天花板…水", "天花…滴", "天花…渗", "天花…漏", "吊顶…滴", "吊顶…渗", "吊顶…漏",
        "灯…滴水", "水漫", "淹了", "淹到", "水淹", "进水了", "爆管", "水管爆", "管子爆", "管…爆开", "管…崩开",
        "爆裂", "喷水", "水喷", "往外喷", "喷出来", "顺着墙", "沿着墙", "往下流",
        "running down the wall", "down the walls", "喷得到处", "到处都是水", "满屋都是水", "满地都是水", "水喉爆",
        *_SPREADING_WATER,
        "through the ceiling", "through my ceiling", "ceiling…leak*", "ceiling…drip*", "ceiling…water",
        "leak*…ceiling", "water…ceiling", "drip*…ceiling", "leak*…above", "water…above", "drip*…above",
        "upstairs…leak*", "leak*…upstairs", "water…upstairs", "upstairs…water", "downstairs…leak*",
        "leak*…downstairs", "leak*…below", "water…below", "leak*…neighbo*", "neighbo*…leak*", "burst", "flooding", "flooded", "water everywhere",
        "gushing", "spraying water", "water spraying", "pouring out",
        "往下淌", "淌到", "往楼下流", "流到楼下", "流到…楼", "流到客厅", "流到卧室", "流到走廊", "流到楼道", "流到电梯",
        "水位…涨", "水位…上升", "水位…越来越高", "倒灌进", "越来越深", "水一直在冒", "水一直冒", "一直冒水", "止不住", "总阀…关不",
        "water level*", "rising water", "can't turn off the water", "can't stop the water",
        "满楼道", "水…到处都是", "地上全是水", "屋里全是水", "家里全是水", "水…往外冒", "往外冒水", "管…裂…冒",
        "管…裂…喷", "管…裂…一直", "管…裂…到处", "裂…喷", "灯里…水", "水…灯里",
        "从灯…水", "水…从灯", "water…light fitting*", "light…dripping", "water…running down",
    ),
    # The same dangers as owners put them in dialect, typos, pinyin and paraphrase: written from the kinds
    # of danger, not from single reports, and each checked against the non-urgent reports that share a word.
    *_cues(
        Priority.URGENT, 6.0,
        # trapped, in a lift or behind a lock
        "困牢", "困咗", "困住", "关牢", "关里头", "关里厢", "关在里", "关咗", "遭关", "拍门", "敲门…出不", "banging on the door",
        "kun zhu*", "kunzhu*", "guan zai*",
        # a lift that drops, runs with open doors or hurts people
        "梯…往下滑", "梯…下滑", "梯…反着", "梯…倒着", "梯…反方向", "梯…溜", "梯…掉了…层", "梯…掉…楼", "梯…一下子…掉", "梯…猛地", "梯…失控", "梯…乱跑",
        "往下滑了", "滑了好几层", "掉了两层", "掉了几层", "掉了一层", "drop*…floor*", "fell…floor*", "plummet*", "free-fall*",
        "门关不拢…跑", "门关不上…跑", "门没关…跑", "门开着…跑", "开着门…上", "开着门…下", "门…开着…动",
        "door*…open…moving", "door*…open…moved", "moving…door* open",
        "夹了…手", "夹了…人", "夹了…孩", "夹了…脚", "夹了…腿", "夹…小孩", "夹…老人", "夹着…手", "夹着…人", "夹人", "夹住人",
        "撞倒", "撞到人", "撞伤", "closing on people", "closed on", "closes on", "knocked…over", "hit an old", "hit a child",
        "hit my", "没停平…开门", "差了半层", "差半层", "摔进",
        # fire, smoke, a burning smell, sparks: the roots, masked below where they mean something else
        "烟", "火星", "闪火", "跳火", "打火花", "起火花", "拉弧", "着火", "冒火", "火光", "焦", "糊了", "糊臭", "烧化", "烧熔",
        "烧咗", "烧坏了…味", "烧了…味", "烧", "胶味", "橡胶味", "电线味", "发黑…味", "熔化", "融化…线", "线…融化", "烧起来", "烧着了",
        "插…打火", "开关…打火", "线…打火", "打火…黑", "mao yan*", "maoyan*", "zhao huo*", "zhaohuo*", "huo hua*", "huohua*", "jiao wei*", "jiaowei*", "fumes",
        "burnt", "melted", "smoking socket*", "smoking plug*", "sizzl*",
        # gas, with its typos, its hiss and its pinyin
        "燃汽", "燃起味", "煤起", "煤汽", "天燃气", "液化汽", "像煤气", "像燃气", "像天然气", "燃气…咝", "燃气…嘶", "燃气…滋滋",
        "煤气…咝", "煤气…嘶", "煤气…滋滋", "气表…滋滋", "气表…嘶", "气表…咝", "灶…咝咝", "灶…嘶嘶", "灶…有味", "灶…味道",
        "灶…臭味", "关了…还有…味", "燃气…味道", "煤气…味道", "天然气…味道", "液化气…味", "漏气了", "ran qi*", "ranqi*",
        "mei qi*", "meiqi*", "gas odo*", "gas stink*", "like gas", "of gas", "gas hiss*", "hiss*…gas",
        # shocks: a thing that should be dead is live
        "上有电", "杆…有电", "栏杆…有电", "扶手…有电", "水…有电", "龙头…有电", "壳…有电", "把手…有电", "门…有电", "墙…有电",
        "铁…有电", "管…有电", "有电…打人", "摸…电一下", "碰…电一下", "摸就电", "碰就电", "一摸…电", "一碰…电", "电一下",
        "touch*…shock*", "touch*…zap*", "电打人", "电了我", "电了一下", "电我", "电亲", "电到人", "电倒", "电着", "麻麻",
        "发麻", "麻了一下", "麻一下", "碰…就麻", "摸…麻", "bei dian*", "beidian*", "chu dian*", "chudian*", "lou dian*",
        "loudian*", "got a shock", "get a shock", "gave me a shock", "zap*", "tingle*", "live to the touch",
        # no power to a whole flat or building
        "冇晒电", "全部冇电", "冇晒", "都没得电", "一哈都没得电", "没得电了", "电统统", "统统没电", "全屋…黑", "全屋…没电",
        "整个屋…没电", "整个家…没电", "整个房…没电", "整栋…没电", "整幢…没电", "整个楼…没电", "全楼…没电", "全栋…没电",
        "整个单元…没电", "单元…都没电", "所有人家…没电", "家家…没电", "全部都没电", "全家…没电", "屋企…冇电",
        "别家…有电", "别家都有电", "人家都有电", "别人都有电", "就我家没", "只有我家没电", "quan jia mei dian*", "quanjia meidian*",
        "quan wu mei dian*", "mei dian le…quan", "电器都用不了", "啥电器都", "什么电器都",
        "everything…went dead", "all…went dead", "whole…went dead", "went dead at once", "whole place…no power", "no power…whole", "no power…entire",
        "no power…building",
        # water into another flat, through a ceiling, or a burst
        "楼上的水", "楼上…水…往", "往我家…淌", "往我家…流", "往我家…滴", "往我家…渗", "流到我家", "渗到我家", "漏到我家",
        "滴到我家", "渗过去", "漏过去", "流过去…隔壁", "隔壁…湿", "邻居…湿", "楼下…湿", "湿到楼下", "lou xia*", "louxia*",
        "lou shang*", "loushang*", "往下淌", "爆了", "爆开", "爆咗", "裂开…喷", "喷了一地",
        "管…崩", "崩了…水", "崩开", "崩裂", "流到门外", "水流了一屋", "一屋子水", "满屋子水", "满屋子的水",
        "coming through", "through…ceiling", "into…flat below", "into…neighbo*", "below…leak*", "pouring", "gush*", "burst*",
        # falling, collapsing, someone hurt, a hole in the ground, a railing that gives
        "外墙…掉", "玻璃…掉", "窗…掉下", "砖…掉下", "掉下…砸", "掉下来…人", "高处…掉", "楼上…掉下",
        "阳台…掉下", "外机…掉", "招牌…掉", "广告牌…掉", "树枝…掉", "树…倒", "掉下去了", "要掉", "快掉", "会掉", "随时…掉", "随时…塌", "随时…倒", "随时…砸", "会砸", "砸到", "砸着",
        "差点砸", "晃…要掉", "吹得…晃", "一直晃", "松动…高", "fell onto", "fall on", "could fall",
        "might fall", "falling", "fell from", "hanging over",
        "栏杆…松", "栏杆…晃", "护栏…松", "护栏…晃", "扶手…松动", "railing*…loose", "railing*…wobbl*", "wobbl*…railing*",
        "balcony…loose", "滑倒", "摔了", "摔跤", "跌了", "跌低", "仆街", "slipped", "someone fell", "has fallen", "fell and",
        "路…大洞", "地上…大洞", "地面…大洞", "路面…洞", "人行道…洞", "井盖…没", "井盖…不见", "井盖…丢", "没有井盖", "drain cover*…missing", "missing…cover*", "open hole",
        "hole in the road", "hole in the pavement",
        # fire equipment sounding, missing or spent, whatever the category was read as
        "报警…一直", "报警…在响", "报警…响了", "报警…乱响", "报警…在叫", "警报…响", "警铃", "火警…响", "烟感…一直", "烟感…在响",
        "烟感…响了", "烟感…在叫", "烟感…乱", "alarm*…going off",
        "alarm*…goes off", "alarm*…beep*", "alarm*…chirp*", "chirp*", "detector*…beep*", "灭火器…不见", "灭火器…没了",
        "灭火器…拿走", "灭火器…空", "灭火器…喷", "水带…没", "水带…不见",
    ),
    # Issue 18's six danger families once more, as word families rather than reports: each kind of
    # wording owners use for a danger the lists above had only some forms of.
    *_cues(
        Priority.URGENT, 6.0,
        # trapped: in pinyin, and shutting oneself in (the dialect verbs of being shut in, 关倒 and 关起,
        # are everyday words too, so they are read only of a lift, in ``DANGER_PAIRS``)
        "guan zhu*", "guanzhu*", "kun zai*", "kunzai*", "把自己锁在", "把自己反锁",
        # fire: catching, flaring up, bursting into flame; smoke said of a thing
        "着起来", "燃起来", "着了火", "爆炸", "爆燃", "闪爆", "炸了一下", "炸开了", "explod*", "explosion*",
        "and smoking", "started smoking", "smoking from", "smoking behind", "switch…smoking",
        "socket…smoking", "outlet…smoking", "plug…smoking", "wire*…smoking", "box…smoking", "lamp…smoking",
        # sparks and arcing heard at the wiring
        "插座…滋滋", "开关…滋滋", "电箱…滋滋", "电表…滋滋", "电闸…滋滋", "插座…吱吱", "开关…吱吱", "电箱…吱吱",
        "buzzing…socket*", "socket*…buzzing", "crackling…socket*",
        # gas: its smell likened, its pinyin and initials
        "臭鸡蛋", "像…煤气", "像…燃气", "rq味", "mq味", "tianranqi*", "tian ran qi*", "smells like rotten",
        # shocks: the hand or foot that felt it
        "电手了", "电了手", "电到手", "电着手", "电得手", "电脚了", "电到脚", "电得我", "摸着…麻", "碰着…麻",
        "gives you a shock",
        # the whole flat's power: every circuit down (a main breaker that will not reset is HIGH in the
        # labelled lists: the owner can still be told where to look)
        "电全断", "电全部断", "电都断", "电全没", "电全停", "电器全停", "电器都停", "电器全部停",
        # water bursting out or getting through to others (a pipe cracked by frost, or a tap running hard,
        # is HIGH in the labelled lists until it floods)
        "冻爆", "别人家…漏", "别人家…渗", "unit above…leak*", "apartment above…leak*",
    ),
    # Zero weight: these only mask an alarming word inside them.
    *_cues(
        Priority.NORMAL, 0.0,
        "打不着火", "点不着火", "停电的时候", "停电时", "漏电保护器", "漏电开关", "漏保", "锁在门外", "锁在外面", "被锁在门外", "被锁在外面",
        "喷水池", "烟头", "都是烟头", "烟蒂", "电动车", "电瓶车", "电动自行车",
        "抽烟", "吸烟", "香烟", "烟灰", "烟盒", "油烟", "烟机", "烟感", "烟敢", "感烟", "烟雾报警", "烟雾探测", "烟花", "烟囱",
        "烧烤", "烧烤的烟", "烧水", "发烧", "烧饭", "烧菜", "烧纸", "烧香", "烧开", "红烧", "烧卖", "烧鹅", "烧腊", "燃烧器",
        "烧得很旺", "烧热水", "热水烧", "泡烧", "灯烧", "管烧", "保险丝烧", "炒菜的烟", "做饭的烟", "barbecue smoke", "bbq smoke", "焦虑",
        "差点滑倒", "差点摔了", "差点摔倒", "差点跌", "被电动", "被电瓶", "容易滑倒", "会滑倒", "怕滑倒", "差点摔", "容易摔", "怕摔", "会摔", "真要着火", "万一着火", "要是着火", "如果着火",
        "一旦着火", "着火了怎么办", "if there's a fire", "in case of fire", "if there is a fire", "焦急", "着急", "糊涂", "打火机", "掉下来的叶", "叶子掉", "墙皮掉", "漆掉", "掉漆", "掉色", "掉灰",
        "爆灯", "灯泡爆", "打火打不着", "打不着火", "点火", "点不着火", "火力", "火很小", "火小", "火苗是", "平层",
        "bursting with", "no burst", "burst of", "cigarette*", "smokers", "smoking area", "smoke-free", "falling apart",
        "fumes from the bins", "lost power to one", "lost power in the kitchen", "拉闸", "上有电梯", "门禁", "钥匙锁在里面", "smoke alarm*", "smoke detector*", "cigarette smoke", "smoking in", "someone smoking",
        "people smoking",
        # a drain's smell is the plumber's, not gas
        "下水道臭味", "下水道的臭味", "下水道味", "下水道的味", "返上来的臭味", "返上来的味", "返臭", "返味", "反味", "反臭",
        "地漏臭", "地漏的臭味", "drain smell*", "sewage smell*", "sewer smell*", "smells like sewage", "smell of sewage",
        "smells like drains",
    ),
    *_cues(
        Priority.HIGH, 3.0,
        *OWNER_HURRY,
        "没电", "没水", "停水", "老人", "小孩", "孩子", "危险", "不安全",
        "进不去", "进不了", "打不开", "锁不上", "溢出", "满地", "砸到", "摔", "不敢", "没有热水", "停运",
        "好几天", "营业", "跳闸", "困", "卡在", "发烫", "烫手",
        # bare wires are a risk soon; wet ones a shock now (URGENT above)
        "线头露", "电线露", "电线裸露", "裸露…电线", "露在外面", "exposed wire*", "bare wire*", "live wire*",
        "no water", "no power", "lost power",
        "no hot water", "no heat", "dangerous", "unsafe", "kids", "elderly", "wheelchair", "locked out",
        "can't", "overflow*", "slipp*", "out of order", "not working at all", "stuck",
    ),
    # Most leaks and blockages are HIGH, but owners also report a slow drip this way.
    *_cues(Priority.HIGH, 1.5, "漏水", "堵", "leak*", "clog*"),
    *_cues(
        Priority.LOW, 3.0,
        "不急", "有空", "方便的时候", "不影响使用", "建议", "偶尔", "有点", "稍微", "过期", "该换",
        "no rush", "not urgent", "whenever", "when convenient", "when you can", "no hurry", "minor",
        "a bit", "slightly", "cosmetic", "squeaky", "at some point",
        *ENQUIRY_PHRASES,
    ),
)

# Owners tell one danger across clauses and in words no list foresees, so beside the cues above a
# danger is also read from two halves anywhere in the report: what (a lift, the power, water from
# above, gas, a drain cover, a railing, something overhead, a child behind a lock) and what happens
# to it. Each half is a short root, so dialect and paraphrase still hold one of them.
_LIFT = ("电梯", "电题", "电弟", "店梯", "电悌", "𨋢", "升降机", "扶梯", "轿厢", "dianti*", "dian ti*", "lift", "lifts",
         "elevator*", "escalator*")
_CHILD_OR_ELDER = ("小孩", "孩子", "宝宝", "细路", "娃", "儿子", "女儿", "老人", "奶奶", "爷爷", "外婆", "外公", "阿婆", "阿伯",
                   "baby", "toddler*", "kid", "kids", "child*", "son", "daughter", "elderly", "grandma", "grandpa", "granny")
DANGER_PAIRS: tuple[DangerPair, ...] = (
    DangerPair(
        "someone in a lift, or a lift that drops or hurts",
        _LIFT,
        ("困", "夹", "关在", "关住", "关着", "里面有", "里头有", "里厢有", "入面有", "在里面", "在里头", "在里厢", "在入面",
         "出不来", "出唔到", "出不去", "喺入面", "喺里面", "卡进", "卷进", "夹进", "坠", "往下掉", "往下滑", "往下沉", "沉下", "掉下", "掉了", "溜", "冲顶", "蹲底", "摔", "跌",
         "受伤", "伤到", "you ren*", "chu bu lai*", "trapped", "stuck inside", "inside", "fell", "fall*", "dropp*",
         "sank", "sink*", "plung*", "injur*", "hurt", "caught", "hit", "still in", "in there", "slam*", "crash*", "猛",
         # shut in, in southwestern and northern speech; someone in it; between floors
         "被关倒", "关倒…人", "关倒…娃", "关倒…孩", "关倒了一个", "关倒了两个", "关起…人", "关起…娃", "关起…孩", "关起一个",
         "关起两个", "is in it", "are in it", "stuck between", "stopped between", "停在…之间", "卡在…之间"),
        # Dirt in a lift is the cleaners' whoever is inside.
        frozenset(set(Category) - {Category.CLEANING}),
        masks=("困难", "夹层", "文件夹", "里面的灯", "里面的风扇", "里面的按钮", "里面的空调", "里面的广告", "里面的镜子", "light inside",
               "fan inside", "hit the button", "hit the call"),
    ),
    DangerPair(
        "no power to a whole flat or building",
        ("全部", "全屋", "整个", "所有", "全家", "全楼", "整栋", "整幢", "成栋", "全都", "统统", "完全", "一点", "屋头", "屋企",
         "整屋", "整间", "整层", "全户", "整户",
         "whole", "entire", "everything", "all the", "all our", "at all", "flat*", "apartment*", "house", "home", "quan*"),
        ("没电", "冇电", "没得电", "没有电", "停电", "断电", "电全断", "电都断", "断球", "没得了", "冇晒", "全黑", "no power",
         "no electric*", "power is out", "power's out", "power out", "lost power", "blackout", "outage", "mei dian*", "meidian*"),
        frozenset({Category.ELECTRICAL}),
        masks=("整个厨房", "整个卧室", "整个客厅", "整个卫生间", "整个房间", "整个书房", "整个阳台", "whole kitchen", "whole room",
               "whole bedroom", "entire kitchen", "entire room"),
    ),
    DangerPair(
        "water from above or into another flat",
        ("楼上", "楼下", "邻居", "隔壁", "对门", "他家", "她家", "人家", "天花", "吊顶", "顶棚", "下一层", "上一层", "upstairs",
         "downstairs",
         "neighbo*", "ceiling*", "flat below", "flat above", "unit below", "unit above", "apartment below", "apartment above",
         "lou xia*", "louxia*", "lou shang*", "loushang*"),
        ("漏", "渗", "滴水", "在滴", "往下滴", "水泡", "泡塌", "泡坏", "泡了", "湿了", "湿透", "淹", "水漫", "流下来", "往下流",
         "往下淌", "leak*", "drip*", "seep*", "flood*", "water coming", "water through", "wet", "lou shui*", "loushui*"),
        frozenset({Category.PLUMBING, Category.APPLIANCE, Category.HVAC, Category.GENERAL}),
        masks=("漏电", "漏风", "漏气", "漏雨", "漏光", "泄漏"),
    ),
    DangerPair(
        "gas",
        ("燃气", "煤气", "天然气", "液化气", "天燃气", "燃汽", "煤汽", "燃起", "然气", "气罐", "气瓶", "钢瓶", "气表", "gas", "meiqi*",
         "mei qi*", "ranqi*", "ran qi*"),
        ("味", "臭", "嘶", "咝", "嗤", "呲", "丝丝", "滋滋", "关不紧", "关不严", "关不住", "won't shut", "won't close", "漏气", "泄漏", "头晕", "头有点晕", "smell*", "odo*", "stink*", "hiss*", "leak*",
         "dizzy", "wei dao*", "weidao*"),
        masks=("煤气费", "燃气费", "gas bill", "gas fee", "gas station", "汽车"),
    ),
    DangerPair(
        "a gas appliance that hisses, leaks gas or leaves people dizzy",
        ("灶", "燃气灶", "煤气灶", "热水器", "壁挂炉", "阀门", "减压阀", "stove", "hob", "cooker", "boiler", "water heater"),
        ("漏气", "嘶", "咝", "呲", "嗤", "出气声", "头晕", "发晕", "晕了", "hiss*", "leaking gas", "dizzy", "headache*"),
        masks=("电热水器", "电热炉", "电磁灶", "electric water heater", "electric boiler", "electric hob", "induction hob", "水阀",
               "water valve"),
    ),
    DangerPair(
        # Every fault of fire equipment is URGENT; the category rule says so when the report is read as
        # FIRE_SAFETY, this pair also when a leaking sprinkler reads as the plumber's.
        "fire equipment that leaks, is gone or spent, is propped open, stays dark or shows a fault",
        ("喷淋", "消防栓", "消火栓", "消防管", "消防水带", "灭火器", "防火门", "应急灯", "疏散指示", "安全出口", "火警", "消防报警",
         "报警主机", "消防主机", "sprinkler*", "hydrant*", "extinguisher*", "fire door*", "fire panel*", "fire alarm panel*",
         "emergency light*", "exit sign*"),
        ("漏", "滴", "喷水", "故障", "关不上", "关不了", "顶着", "不亮", "不见", "没了", "丢了", "空了", "leak*", "drip*", "missing",
         "empty", "fault*", "won't close", "propped", "not lit", "gone", "stolen"),
    ),
    DangerPair(
        "a missing drain cover",
        ("井盖", "下水道盖", "窨井", "雨水篦", "篦子", "manhole*", "drain cover*", "drain grate*"),
        ("不见", "没了", "丢了", "被偷", "偷走", "拿走", "撬走", "撬开", "被撬", "大洞", "掉进", "翘", "翻", "松动", "塌", "tilt*",
         "loose", "broken", "cracked", "missing", "gone", "stolen", "open", "removed"),
    ),
    DangerPair(
        "a railing that gives",
        ("栏杆", "拦杆", "护栏", "railing*", "balustrade*"),
        ("松", "晃", "摇", "断了", "掉了", "脱落", "loose", "wobbl*", "shak*", "coming off", "come off", "broken", "gave way"),
    ),
    DangerPair(
        "something overhead about to fall",
        ("外墙", "墙皮", "瓷砖", "玻璃", "窗户", "窗框", "广告牌", "招牌", "树枝", "大树", "外机", "支架", "雨棚", "遮阳棚", "吊顶",
         "花盆", "铁皮", "彩钢瓦", "屋顶", "楼顶", "雨篷", "roof*",
         "facade", "glass", "window*", "tile*", "branch*", "sign", "signboard*", "canopy", "awning*"),
        ("随时", "快掉", "要掉", "会掉", "掉下来…人", "锈断", "歪着挂", "悬着", "掀起", "被风吹起", "吹翻", "垮", "下垂", "sagging", "walk under",
         "people under", "下面…人走", "人…从下面", "悬空", "吊着", "挂在那", "dangling", "hanging", "砸到", "砸伤", "砸人", "会砸", "砸下来", "要倒", "快倒", "塌", "about to fall", "could fall", "going to fall",
         "might fall", "fell onto", "fall on", "hit someone", "collaps*"),
    ),
    DangerPair(
        "a child or an old person behind a lock",
        _CHILD_OR_ELDER,
        ("锁死", "反锁", "锁在里", "锁住", "把自己锁", "开唔到", "出不来", "locked in", "locked inside", "jammed"),
        frozenset({Category.LOCKSMITH, Category.ELEVATOR}),
    ),
    DangerPair(
        "someone alone or confused behind a door that will not open",
        ("一个人在屋", "一个人在家", "一个人在里", "独自在家", "老年痴呆", "痴呆", "alone inside", "home alone", "dementia"),
        ("打不开", "开不了", "开不开", "锁死", "反锁", "locked", "can't open", "won't open", "jammed"),
        frozenset({Category.LOCKSMITH}),
    ),
)
