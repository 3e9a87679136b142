"""How the fault classifier reads a description: normalised text, clauses, negation, tokens, phrase hits.

Everything here is about the text, nothing about trades: the word lists live in
``dispatch.classifier_words`` and the scoring in ``dispatch.classifier``.

- Offsets are kept: normalising folds full-width forms and case character by character, so every
  span still points into the owner's own text and evidence is quoted verbatim.
- Clauses end at punctuation, at a space between two Chinese characters ("锁坏了 进不去") and at
  "但是 / but" and the like. Parts belong to a thing, faults outweigh places and negation reaches only
  as far as the clause they stand in.
- Negation comes in two kinds. *Contrast* ("不是热水器的问题，是水管", "it's not the lift, it's the
  light", "水管没问题，是…") takes everything it covers out of the reading: rules, cues and learned
  words. *Absence* ("没有烟味", "nobody trapped", "no smoke") only cancels the alarm or symptom that
  follows it, because "没有热水" or "no power" are faults, not denials.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache

import jieba

__all__ = [
    "Hit",
    "PhraseMatcher",
    "Reading",
    "Span",
    "Token",
    "is_cjk",
    "normalise",
]

jieba.setLogLevel(logging.WARNING)

_CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CJK_RUN = re.compile(f"[{_CJK_CHARS}]+")
_HAS_CJK = re.compile(f"[{_CJK_CHARS}]")
_LATIN_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

# A phrase written "A…B" matches A followed by B in the same clause, at most this far apart: for
# Chinese in characters, for English in characters of the words between.
_CJK_GAP = 10
_LATIN_GAP = 60
_CLAUSE_PUNCTUATION = "，,。.!！?？;；、\n：:~～…()（）【】[]"
_CONJUNCTIONS = re.compile(r"但是|可是|不过|而是|(?<![a-z])(?:but|however|although|though)(?![a-z])")

# Contrast that reaches forward, over what follows, to the end of the clause or to the "是" that
# names what is really wrong ("不是漏水是渗水"). "是不是" asks a question and "不是很" is a degree.
_CONTRAST_AHEAD = re.compile(
    r"(?<![是还])(?:并不是|倒不是|而不是|不是|并非)(?!很|太|特别|一般|非常|那么|一直)"
    r"|(?<![a-z'])(?:it'?s not|it is not|its not|not the|not a|not my|not our|isn'?t the|isn'?t a"
    r"|rather than|instead of|nothing wrong with|no problem with)(?![a-z])"
)
_CONTRAST_AHEAD_STOP = re.compile(r"是|(?<![a-z])(?:it'?s|its|it is|but)(?![a-z])")
# Contrast that reaches back over its clause: "水管没问题，是…", "the dryer is fine, it's…".
_CLAUSE_END = "(?=$|[" + re.escape(_CLAUSE_PUNCTUATION) + "])"
_CONTRAST_BEHIND = re.compile(
    r"(?<!有)(?:没有问题|没问题|没毛病|没有坏|没坏|是好的|都正常|(?<!不)正常)(?:的|了|啊|呀|哦)?" + _CLAUSE_END
    + r"|(?<![a-z])(?:is|are) (?:fine|ok|okay|not the problem|not the issue|not broken)(?![a-z])"
    r"|(?<![a-z])(?:isn'?t|aren'?t) (?:the problem|the issue|broken)(?![a-z])"
    r"|(?<![a-z])works fine|(?<![a-z])working fine"
    # "烟感没响，是楼道灯不亮": what did not happen, answered by what did.
    + r"|(?<!有)(?:没|没有|不)(?:响|叫|报警|漏|堵|坏)(?:的|了|啊)?(?=[，,]\s*(?:其实|而|只)?是(?!不是))"
)
# Absence: a negation at most a few characters (Chinese) or words (English) before what it denies.
_ABSENCE = re.compile(
    r"(?<!有)(?:并没有|没有|并没|没|不再|未|(?<![法])无(?!法))"
    # "不冒烟也不烫": 不 denies only the alarms it can stand before (不停冒烟 keeps smoking).
    r"|不(?=冒|漏|烫|焦|糊|着火|起火|闪火|打火|冒火|渗|滴)"
    r"|(?<![a-z])(?:no|not|never|without|nobody|nothing|no one|none|isn'?t|wasn'?t|aren'?t|weren'?t"
    r"|don'?t|doesn'?t|didn'?t|haven'?t|hasn'?t)(?![a-z])"
)
_ABSENCE_CJK_REACH = 4
_ABSENCE_LATIN_REACH = 3

_STOPWORDS = frozenset(
    """
    的 了 是 我 我们 你 你们 您 你好 您好 在 有 都 也 就 和 把 着 吗 吧 呢 啊 呀 哦 这 那 这个 那个 一下
    麻烦 请 谢谢 物业 师傅 还 又 很 太 好 就是 还是 现在 今天 已经 然后 能 能不能 可以 一个 里 上 家里
    我家 我们家 一直 突然 应该 感觉 好像 怎么 什么 为什么 还有 但是 因为 所以
    a an the is are was were be been am i i'm my me we our us you your it its it's this that these
    those there here and or but so to of in on at for from with by as again please pls hi hello
    thanks thank just very really super some someone can could would will has have had do does did get
    got i've i'd i'll all every since when what which who about if then than also too now one two
    """.split()
)

# Rooms and places: where a fault is says little about whose it is (a corridor has lamps, pipes, fire
# doors and litter), so the learned counts do not read them; the rules still see every word.
_PLACES = frozenset(
    """
    厨房 卧室 主卧 次卧 客厅 餐厅 书房 阳台 楼道 走廊 楼梯间 大堂 门口 小区 地下室 车库 地库 地下 屋里 房间
    kitchen bedroom living room hallway corridor stairwell lobby balcony basement garage downstairs upstairs
    """.split()
)

# Words jieba's general dictionary splits apart but that name one fault; kept fixed (not taken from
# the rule list) so that editing a rule never changes how the model's training text was segmented.
_DOMAIN_WORDS = (
    "困人", "跳闸", "空开", "漏电", "烟感", "地漏", "反水", "反臭", "冷凝水", "风机盘管", "新风",
    "门禁", "锁芯", "指纹锁", "密码锁", "智能锁", "电子锁", "油烟机", "净水器", "浴霸", "燃气味",
    "煤气味", "充电桩", "消防栓", "消火栓", "喷淋头", "闭门器", "应急灯", "呕吐物", "石膏板", "道闸",
    "没电", "停电", "电池", "纱窗", "返水", "返臭", "壁挂炉", "点火器", "门禁卡", "小广告", "烟头",
    "电梯厅", "埋汰", "污糟", "曱甴", "雪柜", "冷气机", "抽风机", "升降机", "锁匙", "跳掣", "光管",
)


def is_cjk(text: str) -> bool:
    return _HAS_CJK.search(text) is not None


# Owners in Hong Kong, Macau and Taiwan, and phones set to them, write traditional characters: the
# ones repair reports use are folded to their simplified form, one character for one, so the word lists
# and the learned counts read "電梯困咗人" as "电梯困咗人" and offsets survive.
_TRADITIONAL = str.maketrans(
    "電樓燒煙氣門鎖開關燈線熱機爐滲廁邊裡裏頭壞問題號層進發響報滅應濕廚風調溫牆磚斷閘蓋見還沒會聽說話這個們來為"
    "從對時點處麼動衝淨潔髒蟲壓閥噴滿緊請謝幫師幾樣間無鐘體險傷墜轉聲帶觸擊凍製竈鍋櫃乾讓該當總網紙車輛庫場園區單"
    "陽臺欄護掛擺損縫鏽親濾樁醫費頂燙碼礙藥聞過鬆搖檢測嗎飯臥廳灑蓮龍錶儀鈕戶識鬧鐵攪捲掃兩裝殼鏈媽爺嬤孫們隻",
    "电楼烧烟气门锁开关灯线热机炉渗厕边里里头坏问题号层进发响报灭应湿厨风调温墙砖断闸盖见还没会听说话这个们来为"
    "从对时点处么动冲净洁脏虫压阀喷满紧请谢帮师几样间无钟体险伤坠转声带触击冻制灶锅柜干让该当总网纸车辆库场园区单"
    "阳台栏护挂摆损缝锈亲滤桩医费顶烫码碍药闻过松摇检测吗饭卧厅洒莲龙表仪钮户识闹铁搅卷扫两装壳链妈爷嬷孙们只",
)


def normalise(text: str) -> str:
    """Lower-case, fold full-width forms and traditional characters without changing the text's length,
    so offsets survive."""
    folded = []
    for char in text:
        normal = unicodedata.normalize("NFKC", char).lower()
        folded.append(normal if len(normal) == 1 else char)
    return "".join(folded).translate(_TRADITIONAL)


@cache
def _segmenter() -> jieba.Tokenizer:
    # A private tokenizer keeps our domain words out of the process-wide jieba dictionary. It loads
    # on first use (about a second), not at import, so importing the module stays cheap.
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in _DOMAIN_WORDS:
        tokenizer.add_word(word)
    return tokenizer


def _stem(word: str) -> str:
    """Crude English stemmer: enough to make leak/leaks/leaking/leaked one token."""
    if word.endswith("n't"):
        return "not"
    word = word.split("'", 1)[0]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in ("ing", "ed", "es", "s"):
        stem = word[: -len(suffix)]
        if not word.endswith(suffix) or len(stem) < 3:
            continue
        if suffix == "es" and not stem.endswith(("sh", "ch", "x", "ss", "z")):
            stem = word[:-1]
        if suffix == "s" and stem.endswith("s"):
            return word
        if suffix in ("ing", "ed") and stem[-1] == stem[-2] and stem[-1] not in "lsz":
            stem = stem[:-1]
        word = stem
        break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int

    def covers(self, start: int, end: int) -> bool:
        return self.start <= start and end <= self.end


@dataclass(frozen=True, slots=True)
class Token:
    key: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Hit:
    """Where one labelled phrase occurs; ``index`` is the phrase's position in its matcher."""

    label: str
    weight: float
    start: int
    end: int
    index: int
    # For a phrase written "A…B", where A and B stand; the gap between them is not the phrase's.
    anchors: tuple[tuple[int, int], ...] = ()


def _clause_starts(normalised: str) -> list[int]:
    starts = [0]
    for index, char in enumerate(normalised):
        inside = 0 < index < len(normalised) - 1
        if char in _CLAUSE_PUNCTUATION:
            # a decimal point is no clause boundary
            if not (char == "." and inside and normalised[index + 1].isdigit()):
                starts.append(index + 1)
        elif char == " " and inside and all(map(is_cjk, (normalised[index - 1], normalised[index + 1]))):
            starts.append(index + 1)
    starts.extend(match.start() for match in _CONJUNCTIONS.finditer(normalised))
    return sorted(set(starts))


@dataclass(frozen=True, slots=True)
class Reading:
    """One description, normalised, cut into clauses, negations found and tokenised once."""

    original: str
    normalised: str
    clause_starts: tuple[int, ...]
    contrasted: tuple[Span, ...]
    absences: tuple[Span, ...]
    tokens: tuple[Token, ...]
    keys: frozenset[str]

    @classmethod
    def of(cls, text: str) -> Reading:
        normalised = normalise(text)
        starts = tuple(_clause_starts(normalised))
        contrasted = tuple(_contrasted_spans(normalised, starts))
        absences = tuple(Span(match.start(), match.end()) for match in _ABSENCE.finditer(normalised))
        tokens = tuple(
            token for token in _tokens(normalised) if not any(span.covers(token.start, token.end) for span in contrasted)
        )
        return cls(text, normalised, starts, contrasted, absences, tokens, frozenset(token.key for token in tokens))

    def quote(self, start: int, end: int) -> str:
        return self.original[start:end]

    def clause_of(self, position: int) -> int:
        """The index of the clause a character position falls in."""
        low, high = 0, len(self.clause_starts) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if self.clause_starts[middle] <= position:
                low = middle
            else:
                high = middle - 1
        return low

    def is_contrasted(self, start: int, end: int) -> bool:
        """Whether the span lies in a "not X (but Y)" part of the text."""
        return any(span.covers(start, end) for span in self.contrasted)

    def is_denied(self, start: int, end: int) -> bool:
        """Whether an absence word ("没有", "no", "nobody") stands just before the span, in its clause."""
        clause = self.clause_of(start)
        for span in self.absences:
            if span.end > start or self.clause_of(span.start) != clause:
                continue
            between = self.normalised[span.end : start]
            if is_cjk(between) or not between.strip():
                if len(between) <= _ABSENCE_CJK_REACH:
                    return True
            elif len(between.split()) <= _ABSENCE_LATIN_REACH:
                return True
        return False


def _contrasted_spans(normalised: str, clause_starts: tuple[int, ...]) -> Iterator[Span]:
    def clause_end(position: int) -> int:
        return next((start for start in clause_starts if start > position), len(normalised))

    def clause_start(position: int) -> int:
        return max(start for start in clause_starts if start <= position)

    for match in _CONTRAST_AHEAD.finditer(normalised):
        end = clause_end(match.end())
        stop = _CONTRAST_AHEAD_STOP.search(normalised, match.end(), end)
        yield Span(match.end(), stop.start() if stop else end)
    for match in _CONTRAST_BEHIND.finditer(normalised):
        yield Span(clause_start(match.start()), match.start())


def _tokens(normalised: str) -> Iterator[Token]:
    """Content tokens with their spans: jieba words for Chinese runs, stemmed words for the rest."""
    for match in _LATIN_WORD.finditer(normalised):
        word = match.group()
        if word in _STOPWORDS or word in _PLACES or word.isdigit() or len(word) < 2:
            continue
        yield Token(_stem(word), match.start(), match.end())
    segmenter = _segmenter()
    for run in _CJK_RUN.finditer(normalised):
        for word, start, end in segmenter.tokenize(run.group(), HMM=False):
            if word not in _STOPWORDS and word not in _PLACES:
                yield Token(word, run.start() + start, run.start() + end)


@dataclass(frozen=True, slots=True)
class _Phrase:
    """A phrase compiled for matching; ``literal`` must occur for the phrase to match at all."""

    label: str
    weight: float
    index: int
    literal: str
    pattern: re.Pattern[str] | None

    @classmethod
    def compile(cls, label: str, phrase: str, weight: float, index: int) -> _Phrase:
        parts = [part.strip() for part in normalise(phrase.strip()).split("…")]
        if len(parts) == 1 and is_cjk(parts[0]):
            # Chinese has no spaces to anchor on: a phrase of one part is a plain substring.
            return cls(label, weight, index, parts[0], None)
        pieces = []
        for number, part in enumerate(parts):
            if number:
                gap = _CJK_GAP if is_cjk(parts[number - 1][-1] + part[0]) else _LATIN_GAP
                pieces.append(f"[^{re.escape(_CLAUSE_PUNCTUATION)}]{{0,{gap}}}?")
            pieces.append(f"({_part_pattern(part)})")
        first = parts[0].split()[0].rstrip("*")
        return cls(label, weight, index, first, re.compile("".join(pieces)))

    def spans(self, normalised: str) -> Iterator[tuple[int, int, tuple[tuple[int, int], ...]]]:
        """Where the phrase occurs, with where its parts stand when it has more than one."""
        # The substring test is far cheaper than the regular expression and rules out most phrases.
        start = normalised.find(self.literal)
        if start < 0:
            return
        if self.pattern is None:
            while start >= 0:
                yield start, start + len(self.literal), ()
                start = normalised.find(self.literal, start + 1)
            return
        for match in self.pattern.finditer(normalised, start):
            anchors = tuple(match.span(group) for group in range(1, len(match.groups()) + 1))
            yield *match.span(), anchors if len(anchors) > 1 else ()


def _part_pattern(part: str) -> str:
    if is_cjk(part) and not re.search("[a-z]", part):
        return re.escape(part)
    words = part.split()
    pieces = [
        re.escape(word[:-1]) + r"[a-z']*" if word.endswith("*") else re.escape(word) + r"(?:s|es)?"
        for word in words
    ]
    opening = "" if is_cjk(words[0][0]) else r"(?<![a-z0-9])"
    closing = "" if is_cjk(words[-1][-1]) else r"(?![a-z0-9])"
    return opening + r"[\s\-]*".join(pieces) + closing


class PhraseMatcher:
    """Finds where labelled phrases occur, and drops an occurrence that lies inside a longer one."""

    __slots__ = ("_by_opening",)

    def __init__(self, phrases: Iterable[tuple[str, str, float]]) -> None:
        # Phrases are filed under the first two characters of their literal (one, for one-character
        # literals), so a text is only checked against phrases that can start somewhere inside it.
        by_opening: dict[str, list[_Phrase]] = {}
        for index, (label, phrase, weight) in enumerate(phrases):
            compiled = _Phrase.compile(label, phrase, weight, index)
            by_opening.setdefault(compiled.literal[:2], []).append(compiled)
        self._by_opening = {opening: tuple(group) for opening, group in by_opening.items()}

    def hits(self, normalised: str) -> list[Hit]:
        openings = set(normalised) | {normalised[index : index + 2] for index in range(len(normalised) - 1)}
        found: list[Hit] = []
        for opening in openings & self._by_opening.keys():
            for phrase in self._by_opening[opening]:
                found.extend(
                    Hit(phrase.label, phrase.weight, start, end, phrase.index, anchors)
                    for start, end, anchors in phrase.spans(normalised)
                )
        found.sort(key=lambda hit: (hit.start, -hit.end))
        return [hit for hit in found if not any(_inside(hit, other) for other in found)]


def _inside(hit: Hit, other: Hit) -> bool:
    """Whether ``hit`` lies within ``other`` and is shorter than it; within one of its parts when
    ``other`` is written "A…B": what is named between them ("天花板的喷淋头在滴水") still counts."""
    longer = other.end - other.start > hit.end - hit.start
    if not longer:
        return False
    if other.anchors:
        return any(start <= hit.start and hit.end <= end for start, end in other.anchors)
    return other.start <= hit.start and hit.end <= other.end
