"""GraphQL types of reconciliation (对账) and the daily close: statement accounts, imports, runs, matches,
exceptions and closed days, read by the project's finance staff only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from billing.reconciliation.accounts import AccountTerms
from billing.reconciliation.importing import ImportOutcome
from billing.reconciliation.matching_run import ReconciliationRun
from billing.reconciliation.phrases import render_phrase
from billing.reconciliation.reading import ExceptionView, MatchView
from billing.reconciliation.statement import StatementRejected
from billing.reconciliation.rules import rule_of_row
from db.models import DailyClose, ReconciliationRule, StatementAccount, StatementLineRow
from kernel.vocabulary import Locale
from schema.billing.common import gid
from schema.billing.enums import PaymentChannelEnum
from schema.errors import Error, ErrorCode
from schema.ids import encode_optional_id

__all__ = [
    "DailyCloseType",
    "ExceptionKindEnum",
    "ExceptionStatusEnum",
    "ReconciliationExceptionConnection",
    "ReconciliationExceptionType",
    "ReconciliationMatchConnection",
    "ReconciliationMatchType",
    "ReconciliationRuleType",
    "ReconciliationRunType",
    "ResolutionActionEnum",
    "StatementAccountKindEnum",
    "StatementAccountType",
    "StatementFormatEnum",
    "StatementImportType",
    "StatementRejectedError",
    "rejected",
]


@strawberry.enum(name="StatementAccountKind", description="Which statements an account receives.")
class StatementAccountKindEnum(Enum):
    WECHAT = strawberry.enum_value("WECHAT", description="A WeChat Pay merchant account (交易账单).")
    ALIPAY = strawberry.enum_value("ALIPAY", description="An Alipay merchant account (业务明细 / 账务明细).")
    BANK = strawberry.enum_value("BANK", description="A bank account (CSV / XLSX export with a profile, camt.053, MT940).")


@strawberry.enum(name="StatementFormat", description="The layout of a statement file; left out, it is told from the content.")
class StatementFormatEnum(Enum):
    WECHAT = strawberry.enum_value("WECHAT", description="WeChat Pay trade bill (ALL, SUCCESS or REFUND; plain or gzip).")
    ALIPAY = strawberry.enum_value("ALIPAY", description="Alipay bill: the GBK zip of detail and summary, or one CSV.")
    BANK = strawberry.enum_value("BANK", description="A bank's CSV or XLSX export, read with the account's bank profile.")
    CAMT053 = strawberry.enum_value("CAMT053", description="ISO 20022 camt.053 bank-to-customer statement (XML).")
    MT940 = strawberry.enum_value("MT940", description="SWIFT MT940 customer statement.")


@strawberry.enum(name="ReconciliationExceptionKind", description="What a reconciliation exception found.")
class ExceptionKindEnum(Enum):
    UNRECEIVED = strawberry.enum_value(
        "UNRECEIVED", description="未到账: paid in Courtyard, no statement line after the channel's report window."
    )
    CHANNEL_ONLY = strawberry.enum_value(
        "CHANNEL_ONLY", description="In a channel's statement, not in Courtyard (e.g. a lost notification)."
    )
    DUPLICATE_CHARGE = strawberry.enum_value("DUPLICATE_CHARGE", description="重复扣款: an owner charged twice for one charge.")
    AMOUNT_MISMATCH = strawberry.enum_value(
        "AMOUNT_MISMATCH", description="金额不符: the keys agree, the amounts do not (with the difference and whether a fee explains it)."
    )
    BANK_UNMATCHED = strawberry.enum_value("BANK_UNMATCHED", description="A bank line that matches no payment or settlement.")
    REFUND_UNMATCHED = strawberry.enum_value(
        "REFUND_UNMATCHED", description="A refund on one side (statement or Courtyard) only."
    )


@strawberry.enum(name="ReconciliationExceptionStatus", description="Whether an exception still needs a person.")
class ExceptionStatusEnum(Enum):
    OPEN = strawberry.enum_value("OPEN", description="Waiting to be resolved; replaced by the next run of its window.")
    RESOLVED = strawberry.enum_value("RESOLVED", description="Resolved: see resolution, by whom, why and who approved.")


@strawberry.enum(name="ReconciliationResolution", description="How an exception was resolved.")
class ResolutionEnum(Enum):
    MATCHED = strawberry.enum_value("MATCHED", description="Matched by hand (a difference booked as fee or written off).")
    UNMATCHED = strawberry.enum_value("UNMATCHED", description="A wrong match was undone; its items go back to the next run.")
    RECORDED_PAYMENT = strawberry.enum_value("RECORDED_PAYMENT", description="The statement line was recorded as a payment.")
    REFUNDED_DUPLICATE = strawberry.enum_value("REFUNDED_DUPLICATE", description="The duplicate charge was refunded.")
    WRITTEN_OFF = strawberry.enum_value("WRITTEN_OFF", description="The difference was written off with a reason and an approver.")


@strawberry.enum(name="ReconciliationAction", description="What resolveReconciliationException does.")
class ResolutionActionEnum(Enum):
    MATCH = strawberry.enum_value(
        "MATCH", description="Pair with paymentIds or lineIds chosen by hand, or accept an AMOUNT_MISMATCH's pairing."
    )
    UNMATCH = strawberry.enum_value("UNMATCH", description="Undo the match matchId (with a reason); its journal entry is reversed.")
    RECORD_PAYMENT = strawberry.enum_value(
        "RECORD_PAYMENT", description="Record the CHANNEL_ONLY or BANK_UNMATCHED line as a payment for unitId."
    )
    REFUND_DUPLICATE = strawberry.enum_value("REFUND_DUPLICATE", description="Refund a DUPLICATE_CHARGE to the owner (with a reason).")
    WRITE_OFF = strawberry.enum_value("WRITE_OFF", description="Write the difference off, with a reason and approvedBy.")


@strawberry.type(name="ChannelTerms", description="How an account's channel reports and pays out.")
class ChannelTermsType:
    report_days: int = strawberry.field(description="Days after a payment by which its statement line must appear.")
    payout_min_days: int = strawberry.field(description="Fewest days after a channel day that its payout arrives (T+n).")
    payout_max_days: int = strawberry.field(description="Most days after a channel day that its payout may arrive.")
    fee_rate: Decimal | None = strawberry.field(description="The channel's fee as a fraction (0.006 = 0.6%), if known.")
    payout_account: str | None = strawberry.field(description="The bank account the payouts arrive in; any when null.")

    @classmethod
    def from_stored(cls, stored: dict[str, object]) -> ChannelTermsType:
        terms = AccountTerms.from_json(stored)  # type: ignore[arg-type]
        return cls(
            report_days=terms.report_days,
            payout_min_days=terms.payout_min_days,
            payout_max_days=terms.payout_max_days,
            fee_rate=terms.fee_rate,
            payout_account=terms.payout_account,
        )


@strawberry.type(name="StatementAccount", description="A channel or bank account of a project whose statements are imported.")
class StatementAccountType:
    id: strawberry.ID = strawberry.field(description="The account's ID (what importStatement and the CLI take).")
    name: str = strawberry.field(description="What its statements call it: the WeChat 商户号, the bank account number.")
    kind: StatementAccountKindEnum = strawberry.field(description="Which statements the account receives.")
    channel: PaymentChannelEnum = strawberry.field(description="The payment channel its lines reconcile with.")
    terms: ChannelTermsType = strawberry.field(description="How the channel reports and pays out.")
    bank_profile: JSON | None = strawberry.field(description="A bank account's export layout (BankProfile field names).")

    @classmethod
    def from_row(cls, row: StatementAccount) -> StatementAccountType:
        return cls(
            id=gid("StatementAccount", row.id),
            name=row.name,
            kind=StatementAccountKindEnum(row.kind.value),
            channel=row.channel,  # type: ignore[arg-type]
            terms=ChannelTermsType.from_stored(row.terms or {}),
            bank_profile=row.bank_profile,
        )


@strawberry.type(
    name="ReconciliationRule",
    description="One of a project's matching rules, tried in `position` order on the bank credits still open after exact keys and settlements.",
)
class ReconciliationRuleType:
    id: strawberry.ID = strawberry.field(description="The rule's ID.")
    position: int = strawberry.field(description="Where it is tried: 1 first.")
    name: str = strawberry.field(description="Its name, as matches made by it name it.")
    pattern: str | None = strawberry.field(description="A regular expression searched in the line's memo (摘要/附言) and payer name.")
    unit_id: strawberry.ID | None = strawberry.field(description="The unit the pattern points at (else its (?P<unit>…) group).")
    party_id: strawberry.ID | None = strawberry.field(description="The payer the pattern points at.")
    amount_tolerance: Decimal = strawberry.field(description="How far the line's amount may be from the payment's (元).")
    days_before: int = strawberry.field(description="Days the line may come before the payment.")
    days_after: int = strawberry.field(description="Days the line may come after the payment.")
    min_name_similarity: float | None = strawberry.field(description="How alike payer names must be (0–1, characters or pinyin).")
    channels: list[PaymentChannelEnum] = strawberry.field(description="The payments' channels it pairs with.")
    disabled_at: dt.datetime | None = strawberry.field(description="When it was disabled; null while it is tried.")

    @classmethod
    def from_row(cls, row: ReconciliationRule) -> ReconciliationRuleType:
        rule = rule_of_row(row)
        return cls(
            id=gid("ReconciliationRule", row.id),
            position=row.position,
            name=rule.name,
            pattern=rule.pattern,
            unit_id=encode_optional_id("Unit", rule.unit_id),
            party_id=encode_optional_id("Party", rule.party_id),
            amount_tolerance=rule.amount_tolerance,
            days_before=rule.days_before,
            days_after=rule.days_after,
            min_name_similarity=rule.min_name_similarity,
            channels=[PaymentChannelEnum(channel.value) for channel in rule.channels],  # type: ignore[misc]
            disabled_at=row.disabled_at,
        )


@strawberry.type(name="StatementImport", description="An imported statement file; importing it again changes nothing.")
class StatementImportType:
    file_id: strawberry.ID = strawberry.field(description="The stored file's ID.")
    account: StatementAccountType = strawberry.field(description="The account it was imported into.")
    filename: str = strawberry.field(description="The name the file was uploaded with.")
    format: StatementFormatEnum = strawberry.field(description="The format it was read as.")
    line_count: int = strawberry.field(description="Lines in the file.")
    new_line_count: int = strawberry.field(description="Lines the account did not have yet (0 on a repeated import).")
    already_imported: bool = strawberry.field(description="True when this very file had been imported before: nothing was written.")

    @classmethod
    def from_outcome(cls, outcome: ImportOutcome) -> StatementImportType:
        return cls(
            file_id=gid("StatementFile", outcome.file.id),
            account=StatementAccountType.from_row(outcome.account),
            filename=outcome.file.filename,
            format=StatementFormatEnum(outcome.file.statement_format),
            line_count=outcome.line_count,
            new_line_count=outcome.new_line_count,
            already_imported=outcome.already_imported,
        )


@strawberry.type(description="A file refused whole: where (row, column) and by how much its totals differ. Nothing was written.")
class StatementRejectedError(Error):
    row: int = strawberry.field(description="1-based line or row of the file; 0 for the file as a whole.")
    column: str | None = strawberry.field(description="The header or summary name concerned.")
    difference: Decimal | None = strawberry.field(description="Parsed lines minus the file's own stated total.")


def rejected(error: StatementRejected) -> StatementRejectedError:
    return StatementRejectedError(
        code=ErrorCode.BAD_USER_INPUT,  # type: ignore[arg-type]
        message=error.message,
        field=error.field,
        row=error.row,
        column=error.column,
        difference=error.difference,
    )


@strawberry.type(name="ExceptionKindCount", description="How many exceptions of one kind a run left open.")
class ExceptionKindCountType:
    kind: ExceptionKindEnum = strawberry.field(description="The kind.")
    count: int = strawberry.field(description="How many are open for the run's window.")


@strawberry.type(name="ReconciliationRun", description="What one matching run of a window of days found.")
class ReconciliationRunType:
    first_day: dt.date = strawberry.field(name="from", description="First day of the window (project's local days).")
    last_day: dt.date = strawberry.field(name="to", description="Last day of the window.")
    new_matches: int = strawberry.field(description="Matches this run added (earlier ones stay as they were).")
    open_exceptions: int = strawberry.field(description="Exceptions now open for the window's items.")
    exceptions_by_kind: list[ExceptionKindCountType] = strawberry.field(description="The open exceptions per kind.")
    pending_payments: int = strawberry.field(description="Payments whose channel may still report them.")
    pending_refunds: int = strawberry.field(description="Refunds whose channel may still report them.")
    pending_lines: int = strawberry.field(description="Payouts that may still arrive in the bank.")

    @classmethod
    def from_run(cls, run: ReconciliationRun) -> ReconciliationRunType:
        return cls(
            first_day=run.first_day,
            last_day=run.last_day,
            new_matches=run.new_matches,
            open_exceptions=run.open_exceptions,
            exceptions_by_kind=[
                ExceptionKindCountType(kind=ExceptionKindEnum(kind), count=count) for kind, count in sorted(run.exceptions_by_kind.items())
            ],
            pending_payments=run.pending_payments,
            pending_refunds=run.pending_refunds,
            pending_lines=run.pending_lines,
        )


@strawberry.type(name="ExplanationPhrase", description="One reason of a match or exception, in the project's language.")
class ExplanationPhraseType:
    code: str = strawberry.field(description="The stable code of the phrase (e.g. KEY_EQUAL, SETTLEMENT_AMOUNT).")
    text: str = strawberry.field(description="The phrase in words.")


def _phrases(stored: list[dict[str, object]], locale: Locale) -> list[ExplanationPhraseType]:
    return [
        ExplanationPhraseType(code=str(part["code"]), text=render_phrase(str(part["code"]), part.get("facts") or {}, locale))  # type: ignore[arg-type]
        for part in stored
    ]


@strawberry.type(name="StatementLine", description="One booking of an imported statement.")
class StatementLineType:
    id: strawberry.ID = strawberry.field(description="The line's ID (what lineIds take).")
    account: str = strawberry.field(description="The statement account's name.")
    booked_at: dt.datetime = strawberry.field(description="When the channel or bank booked it.")
    kind: str = strawberry.field(description="PAYMENT, REFUND, FEE, PAYOUT or BANK.")
    amount: Decimal = strawberry.field(description="Money in positive, out negative (订单金额 for channel payments).")
    fee: Decimal = strawberry.field(description="The channel's fee on it, as the file writes it.")
    order_no: str | None = strawberry.field(description="Our order number (商户订单号 / out_trade_no).")
    transaction_id: str | None = strawberry.field(description="The channel's transaction id.")
    bank_reference: str | None = strawberry.field(description="The bank's serial number or reference.")
    counterparty_name: str | None = strawberry.field(description="The payer or payee as the statement names them.")
    memo: str | None = strawberry.field(description="摘要 / 附言 / goods text.")

    @classmethod
    def from_row(cls, row: StatementLineRow, account: StatementAccount) -> StatementLineType:
        return cls(
            id=gid("StatementLine", row.id),
            account=account.name,
            booked_at=row.booked_at,
            kind=row.kind,
            amount=row.amount,
            fee=row.fee,
            order_no=row.order_no,
            transaction_id=row.transaction_id,
            bank_reference=row.bank_reference,
            counterparty_name=row.counterparty_name,
            memo=row.memo,
        )


@strawberry.type(name="ReconciliationException", description="Something a person must resolve, with its links and resolution.")
class ReconciliationExceptionType:
    id: strawberry.ID = strawberry.field(description="The exception's ID (what resolveReconciliationException takes).")
    kind: ExceptionKindEnum = strawberry.field(description="What was found.")
    status: ExceptionStatusEnum = strawberry.field(description="OPEN or RESOLVED.")
    day: dt.date = strawberry.field(description="The day it concerns (its line's or payment's local day).")
    difference: Decimal | None = strawberry.field(description="Statement minus Courtyard: what is missing or extra.")
    fee_explains: bool | None = strawberry.field(description="For AMOUNT_MISMATCH: whether the channel's fee explains the difference.")
    explanation: list[ExplanationPhraseType] = strawberry.field(description="Why, phrase by phrase.")
    lines: list[StatementLineType] = strawberry.field(description="The statement lines it is about.")
    payment_ids: list[strawberry.ID] = strawberry.field(description="The payments it is about.")
    refund_ids: list[strawberry.ID] = strawberry.field(description="The refunds it is about.")
    related_lines: list[StatementLineType] = strawberry.field(description="Lines shown for context (e.g. the first of a duplicate).")
    related_payment_ids: list[strawberry.ID] = strawberry.field(description="Payments shown for context.")
    suggested_payment_ids: list[strawberry.ID] = strawberry.field(description="Open payments of the same amount nearby, for MATCH.")
    resolution: ResolutionEnum | None = strawberry.field(description="How it was resolved.")
    resolution_reason: str | None = strawberry.field(description="Why, as the resolver wrote it.")
    approved_by: str | None = strawberry.field(description="Who approved a write-off.")
    resolved_at: dt.datetime | None = strawberry.field(description="When it was resolved.")
    resolved_by: strawberry.ID | None = strawberry.field(description="The user who resolved it.")
    corrects_closed_day: dt.date | None = strawberry.field(description="The closed day this resolution corrects (booked today).")

    @classmethod
    def from_view(cls, view: ExceptionView) -> ReconciliationExceptionType:
        row, linked = view.row, view.linked
        return cls(
            id=gid("ReconciliationException", row.id),
            kind=ExceptionKindEnum(row.kind),
            status=ExceptionStatusEnum(row.status.value),
            day=row.day,
            difference=row.difference,
            fee_explains=row.fee_explains,
            explanation=_phrases(row.explanation, view.locale),
            lines=[StatementLineType.from_row(line, account) for line, account in linked.lines],
            payment_ids=[gid("Payment", pk) for pk in linked.payment_ids],
            refund_ids=[gid("Refund", pk) for pk in linked.refund_ids],
            related_lines=[StatementLineType.from_row(line, account) for line, account in linked.related_lines],
            related_payment_ids=[gid("Payment", pk) for pk in linked.related_payment_ids],
            suggested_payment_ids=[gid("Payment", pk) for pk in row.suggested_payment_ids or []],
            resolution=ResolutionEnum(row.resolution.value) if row.resolution else None,
            resolution_reason=row.resolution_reason,
            approved_by=row.approved_by,
            resolved_at=row.resolved_at,
            resolved_by=gid("User", row.resolved_by) if row.resolved_by else None,
            corrects_closed_day=row.corrects_closed_day,
        )


@strawberry.type(name="Settlement", description="A channel's days paid into the bank as one credit (N:1).")
class SettlementType:
    account: str = strawberry.field(description="The channel account whose days were settled.")
    first_day: dt.date = strawberry.field(description="First settled day.")
    last_day: dt.date = strawberry.field(description="Last settled day.")
    gross: Decimal = strawberry.field(description="Σ 订单金额 of the days' payments.")
    coupons: Decimal = strawberry.field(description="Merchant-funded coupons, kept by the channel.")
    refunds: Decimal = strawberry.field(description="Refunds of the days (negative).")
    fees: Decimal = strawberry.field(description="Channel fees: booked to CHANNEL_FEES, never a mismatch.")
    net: Decimal = strawberry.field(description="What arrived in the bank.")


@strawberry.type(name="ReconciliationMatch", description="Statement lines, payments and refunds that belong together, and why.")
class ReconciliationMatchType:
    id: strawberry.ID = strawberry.field(description="The match's ID (what UNMATCH takes).")
    step: str = strawberry.field(description="EXACT_KEY, SETTLEMENT, PAYOUT, RULE, CHANNEL_FEE, or by hand: MANUAL, RECORDED, REFUNDED.")
    rule: str | None = strawberry.field(description="The project rule that matched, for step RULE.")
    explanation: list[ExplanationPhraseType] = strawberry.field(description="Why, phrase by phrase.")
    channel_fee: Decimal = strawberry.field(description="The channel's fee this match booked as an expense.")
    amount_difference: Decimal = strawberry.field(description="Statement minus Courtyard within the match (0 for an exact one).")
    lines: list[StatementLineType] = strawberry.field(description="The lines it owns (a settlement: the bank credit).")
    payment_ids: list[strawberry.ID] = strawberry.field(description="The payments it owns.")
    refund_ids: list[strawberry.ID] = strawberry.field(description="The refunds it owns.")
    settlement: SettlementType | None = strawberry.field(description="For a settlement: the channel days it pays.")
    corrects_closed_day: dt.date | None = strawberry.field(description="The closed day it corrects, when made after that day closed.")
    created_at: dt.datetime = strawberry.field(description="When it was made.")

    @classmethod
    def from_view(cls, view: MatchView) -> ReconciliationMatchType:
        row, linked = view.row, view.linked
        s = row.settlement
        return cls(
            id=gid("ReconciliationMatch", row.id),
            step=row.step,
            rule=row.rule,
            explanation=_phrases(row.explanation, view.locale),
            channel_fee=row.channel_fee,
            amount_difference=row.amount_difference,
            lines=[StatementLineType.from_row(line, account) for line, account in linked.lines],
            payment_ids=[gid("Payment", pk) for pk in linked.payment_ids],
            refund_ids=[gid("Refund", pk) for pk in linked.refund_ids],
            settlement=SettlementType(
                account=s["account"],
                first_day=dt.date.fromisoformat(s["first_day"]),
                last_day=dt.date.fromisoformat(s["last_day"]),
                gross=Decimal(s["gross"]),
                coupons=Decimal(s["coupons"]),
                refunds=Decimal(s["refunds"]),
                fees=Decimal(s["fees"]),
                net=Decimal(s["net"]),
            )
            if s
            else None,
            corrects_closed_day=row.corrects_closed_day,
            created_at=row.created_at,
        )


@strawberry.type(name="ReconciliationExceptionConnection", description="A page of reconciliation exceptions.")
class ReconciliationExceptionConnection(relay.Connection[ReconciliationExceptionType]):
    total_count: int = strawberry.field(description="Exceptions matching the filter, on every page.")


@strawberry.type(name="ReconciliationMatchConnection", description="A page of reconciliation matches.")
class ReconciliationMatchConnection(relay.Connection[ReconciliationMatchType]):
    total_count: int = strawberry.field(description="Matches that stand, on every page.")


@strawberry.type(name="DailyClose", description="One closed day of one statement account (日清日结): never changes once written.")
class DailyCloseType:
    id: strawberry.ID = strawberry.field(description="The close's ID.")
    account: StatementAccountType = strawberry.field(description="The statement account closed.")
    day: dt.date = strawberry.field(description="The closed day (project's local day).")
    clearing_account: str = strawberry.field(description="The journal account reported: CLEARING:<channel> or BANK:<account>.")
    opening_balance: Decimal = strawberry.field(description="Its balance when the day began.")
    closing_balance: Decimal = strawberry.field(description="Its balance when the day ended.")
    matched_count: int = strawberry.field(description="The day's statement lines that are matched.")
    matched_amount: Decimal = strawberry.field(description="Their amounts added up.")
    exception_count: int = strawberry.field(description="The day's exceptions, open or resolved.")
    exception_amount: Decimal = strawberry.field(description="Their differences added up (absolute).")
    open_exception_count: int = strawberry.field(description="Exceptions still open when the day closed.")
    open_exception_amount: Decimal = strawberry.field(description="Their differences added up (absolute).")
    sign_off_reason: str | None = strawberry.field(description="Why the day closed with open exceptions.")
    closed_by: strawberry.ID | None = strawberry.field(description="The user who closed it (null: the command line).")
    closed_at: dt.datetime = strawberry.field(description="When it was closed.")

    @classmethod
    def from_row(cls, row: DailyClose, account: StatementAccount) -> DailyCloseType:
        return cls(
            id=gid("DailyClose", row.id),
            account=StatementAccountType.from_row(account),
            day=row.day,
            clearing_account=row.clearing_account,
            opening_balance=row.opening_balance,
            closing_balance=row.closing_balance,
            matched_count=row.matched_count,
            matched_amount=row.matched_amount,
            exception_count=row.exception_count,
            exception_amount=row.exception_amount,
            open_exception_count=row.open_exception_count,
            open_exception_amount=row.open_exception_amount,
            sign_off_reason=row.sign_off_reason,
            closed_by=gid("User", row.closed_by) if row.closed_by else None,
            closed_at=row.closed_at,
        )

