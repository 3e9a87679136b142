"""Mutations of reconciliation: thin calls into `billing.reconciliation`'s use cases, each owning its
transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON

from billing.reconciliation import accounts, closing, importing, matching_run, resolving, rules
from billing.reconciliation.formats import StatementFormat
from billing.reconciliation.reading import ExceptionView, Linked
from billing.reconciliation.statement import Channel, StatementRejected
from db.models import ReconciliationRule, StatementAccountKind
from kernel.errors import BadInput
from kernel.vocabulary import Locale
from schema.billing.common import FINANCE_ONLY, decode_ids
from schema.billing.enums import PaymentChannelEnum
from schema.billing.reconciliation_types import (
    DailyCloseType,
    ReconciliationExceptionType,
    ReconciliationRuleType,
    ReconciliationRunType,
    ResolutionActionEnum,
    StatementAccountKindEnum,
    StatementAccountType,
    StatementFormatEnum,
    StatementImportType,
    StatementRejectedError,
    rejected,
)
from schema.context import Info
from schema.errors import BadUserInputError, ConflictError, NotFoundError, error_result
from schema.ids import decode_id, decode_optional_id
from schema.use_cases import run_for_caller

__all__ = ["ReconciliationMutations"]


@strawberry.input(description="How an account's channel reports and pays out; every field has a default.")
class ChannelTermsInput:
    report_days: int = strawberry.field(default=2, description="Days after a payment by which its line must appear.")
    payout_min_days: int = strawberry.field(default=1, description="Fewest days until a channel day's payout arrives.")
    payout_max_days: int = strawberry.field(default=7, description="Most days until a channel day's payout arrives.")
    fee_rate: str | None = strawberry.field(default=None, description="The channel's fee: 0.006 or 0.6%.")
    payout_account: str | None = strawberry.field(default=None, description="The bank account (its name) payouts arrive in.")


@strawberry.input(description="A channel or bank account whose statements a project imports.")
class CreateStatementAccountInput:
    project_id: strawberry.ID = strawberry.field(description="The project.")
    name: str = strawberry.field(description="What its statements call it: the WeChat 商户号, the bank account number.")
    kind: StatementAccountKindEnum = strawberry.field(description="Which statements it receives.")
    terms: ChannelTermsInput | None = strawberry.field(default=None, description="How its channel reports and pays out.")
    bank_profile: JSON | None = strawberry.field(
        default=None, description="A bank account's export layout, by BankProfile field name (date_column, amount_column, …)."
    )


@strawberry.input(description="A matching rule's name and conditions; every condition given must hold.")
class ReconciliationRuleInput:
    name: str = strawberry.field(description="What matches made by the rule will name.")
    pattern: str | None = strawberry.field(
        default=None,
        description=(
            "A regular expression searched in the line's memo (摘要/附言) and payer name. It points at unitId or partyId, "
            "or at the unit whose code its named group (?P<unit>…) captures (3-1-502, 3栋1单元502 …: building and unit number)."
        ),
    )
    unit_id: strawberry.ID | None = strawberry.field(default=None, description="The unit the pattern points at.")
    party_id: strawberry.ID | None = strawberry.field(default=None, description="The payer the pattern points at.")
    amount_tolerance: Decimal = strawberry.field(default=Decimal("0.00"), description="How far amounts may differ (元, 0–1000).")
    days_before: int = strawberry.field(default=0, description="Days the line may come before the payment (0–60).")
    days_after: int = strawberry.field(default=3, description="Days the line may come after the payment (0–60).")
    min_name_similarity: float | None = strawberry.field(
        default=None, description="How alike the payer names must be, above 0 and at most 1 (characters or pinyin)."
    )
    channels: list[PaymentChannelEnum] = strawberry.field(  # type: ignore[valid-type]
        default_factory=lambda: [PaymentChannelEnum("BANK_TRANSFER")], description="The payments' channels it pairs with."
    )
    position: int | None = strawberry.field(
        default=None, description="Where it is tried (1 first; the rules from there move down one); last, or where it was, when left out."
    )


@strawberry.input(description="A new matching rule for a project.")
class CreateReconciliationRuleInput(ReconciliationRuleInput):
    project_id: strawberry.ID = strawberry.field(description="The project.")


@strawberry.input(description="A rule's new name and conditions; they replace the old ones whole.")
class UpdateReconciliationRuleInput(ReconciliationRuleInput):
    rule_id: strawberry.ID = strawberry.field(description="The rule.")


@strawberry.input(description="How to resolve one reconciliation exception.")
class ResolveReconciliationExceptionInput:
    exception_id: strawberry.ID = strawberry.field(description="The OPEN exception.")
    action: ResolutionActionEnum = strawberry.field(description="What to do.")
    reason: str | None = strawberry.field(default=None, description="Why: required to write off, unmatch or refund.")
    approved_by: str | None = strawberry.field(default=None, description="Who approved a write-off (required for WRITE_OFF).")
    payment_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="MATCH: the payments to pair with.")
    line_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="MATCH: the statement lines to pair with.")
    match_id: strawberry.ID | None = strawberry.field(default=None, description="UNMATCH: the match to undo.")
    unit_id: strawberry.ID | None = strawberry.field(default=None, description="RECORD_PAYMENT: the unit the payment is for.")
    payer_name: str | None = strawberry.field(default=None, description="RECORD_PAYMENT: the payer; the line's name when left out.")


@strawberry.type(name="CloseReconciliationDayPayload", description="The day's closes, one per statement account.")
class CloseReconciliationDayPayload:
    closes: list[DailyCloseType] = strawberry.field(description="The reports written; they never change.")


_ERRORS = BadUserInputError | NotFoundError | ConflictError
CreateStatementAccountResult = Annotated[StatementAccountType | _ERRORS, strawberry.union(
    "CreateStatementAccountResult",
    description=(
        "What `createStatementAccount` answers: the StatementAccount on success; BadUserInputError (`field` names the "
        "input at fault), NotFoundError (an ID that does not exist or is not yours to see) or ConflictError (it "
        "clashes with what is stored). A failure writes nothing."
    ),
)]
ImportStatementResult = Annotated[
    StatementImportType | StatementRejectedError | _ERRORS, strawberry.union(
        "ImportStatementResult",
        description=(
            "What `importStatement` answers: the StatementImport; StatementRejectedError when the file contradicts "
            "itself (nothing imported); BadUserInputError (`field` names the input at fault), NotFoundError (an ID "
            "that does not exist or is not yours to see) or ConflictError (it clashes with what is stored). A failure "
            "writes nothing."
        ),
    )
]
ReconcileResult = Annotated[ReconciliationRunType | _ERRORS, strawberry.union(
    "ReconcileResult",
    description=(
        "What `reconcile` answers: the ReconciliationRun; BadUserInputError (`field` names the input at fault), "
        "NotFoundError (an ID that does not exist or is not yours to see) or ConflictError (it clashes with what is "
        "stored). A failure writes nothing."
    ),
)]
ResolveReconciliationExceptionResult = Annotated[
    ReconciliationExceptionType | _ERRORS, strawberry.union(
        "ResolveReconciliationExceptionResult",
        description=(
            "What `resolveReconciliationException` answers: the ReconciliationException as resolved; BadUserInputError "
            "(`field` names the input at fault), NotFoundError (an ID that does not exist or is not yours to see) or "
            "ConflictError (it clashes with what is stored). A failure writes nothing."
        ),
    )
]
ReconciliationRuleResult = Annotated[ReconciliationRuleType | _ERRORS, strawberry.union(
    "ReconciliationRuleResult",
    description=(
        "What `createReconciliationRule`, `updateReconciliationRule`, `disableReconciliationRule` and "
        "`enableReconciliationRule` answer: the "
        "ReconciliationRule; BadUserInputError (`field` names the input at fault), NotFoundError (an ID that does not "
        "exist or is not yours to see) or ConflictError (it clashes with what is stored). A failure writes nothing."
    ),
)]
CloseReconciliationDayResult = Annotated[CloseReconciliationDayPayload | _ERRORS, strawberry.union(
    "CloseReconciliationDayResult",
    description=(
        "What `closeReconciliationDay` answers: the CloseReconciliationDayPayload; BadUserInputError (`field` names "
        "the input at fault), NotFoundError (an ID that does not exist or is not yours to see) or ConflictError (it "
        "clashes with what is stored). A failure writes nothing."
    ),
)]


def _rule_draft(input: ReconciliationRuleInput) -> rules.RuleDraft:
    return rules.RuleDraft(
        name=input.name,
        pattern=input.pattern,
        unit_id=decode_optional_id(input.unit_id, "Unit", field="unitId"),
        party_id=decode_optional_id(input.party_id, "Party", field="partyId"),
        amount_tolerance=input.amount_tolerance,
        days_before=input.days_before,
        days_after=input.days_after,
        min_name_similarity=input.min_name_similarity,
        channels=tuple(Channel(channel.value) for channel in input.channels),
        position=input.position,
    )


def _rule(row: ReconciliationRule) -> ReconciliationRuleType:
    return ReconciliationRuleType.from_row(row)


def _terms(terms: ChannelTermsInput | None) -> accounts.AccountTerms:
    if terms is None:
        return accounts.AccountTerms()
    return accounts.AccountTerms(
        report_days=terms.report_days,
        payout_min_days=terms.payout_min_days,
        payout_max_days=terms.payout_max_days,
        fee_rate=accounts.parse_fee_rate(terms.fee_rate),
        payout_account=terms.payout_account,
    )


@strawberry.type
class ReconciliationMutations:
    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="FINANCE, ADMIN: Add a WeChat Pay, Alipay or bank account whose statements are imported.")
    async def create_statement_account(
        self,
        info: Info,
        input: Annotated[CreateStatementAccountInput, strawberry.argument(description="The account.")],
    ) -> CreateStatementAccountResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: accounts.create_statement_account(
                info.context.session_factory,
                principal,
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                name=input.name,
                kind=StatementAccountKind(input.kind.value),
                terms=_terms(input.terms),
                bank_profile=input.bank_profile if input.bank_profile is None or isinstance(input.bank_profile, dict) else _not_object(),
            ),
            StatementAccountType.from_row,
        )

    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description="FINANCE, ADMIN: Import a statement file (multipart upload): all its lines, or none when it contradicts itself. The same file twice changes nothing.",
    )
    async def import_statement(
        self,
        info: Info,
        account_id: Annotated[strawberry.ID, strawberry.argument(description="The statement account the file belongs to.")],
        file: Annotated[Upload, strawberry.argument(description="The statement file as the channel or bank wrote it.")],
        format: Annotated[
            StatementFormatEnum | None, strawberry.argument(description="The file's format; told from its content when left out.")
        ] = None,
    ) -> ImportStatementResult:  # type: ignore[valid-type]
        content = await file.read()  # type: ignore[attr-defined]
        if len(content) > importing.MAX_STATEMENT_BYTES:
            return error_result(BadInput(f"The file is larger than {importing.MAX_STATEMENT_BYTES // 2**20} MiB.", field="file"))

        async def call(principal: object) -> importing.ImportOutcome | StatementRejected:
            try:
                return await importing.import_statement(
                    info.context.session_factory,
                    principal,  # type: ignore[arg-type]
                    account_id=decode_id(account_id, "StatementAccount", field="accountId"),
                    content=content,
                    filename=getattr(file, "filename", None) or "statement",
                    statement_format=StatementFormat(format.value) if format else None,
                    now=info.context.now(),
                )
            except StatementRejected as refusal:  # its transaction rolled back: nothing was written
                return refusal

        return await run_for_caller(
            info,
            call,
            lambda outcome: rejected(outcome) if isinstance(outcome, StatementRejected) else StatementImportType.from_outcome(outcome),
        )

    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description="FINANCE, ADMIN: Match the project's statements of a window of days with its payments; store matches and replace the window's open exceptions.",
    )
    async def reconcile(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
        first_day: Annotated[dt.date, strawberry.argument(name="from", description="First day (project's local day).")],
        last_day: Annotated[dt.date, strawberry.argument(name="to", description="Last day, included.")],
        account_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this account and the accounts it settles with.")
        ] = None,
    ) -> ReconcileResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: matching_run.run_reconciliation(
                info.context.session_factory,
                principal,
                project_id=decode_id(project_id, "Project", field="projectId"),
                first_day=first_day,
                last_day=last_day,
                account_id=decode_id(account_id, "StatementAccount", field="accountId") if account_id else None,
                now=info.context.now(),
            ),
            ReconciliationRunType.from_run,
        )

    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description="FINANCE, ADMIN: Resolve an open exception: match or unmatch by hand, record the payment, refund the duplicate, or write off.",
    )
    async def resolve_reconciliation_exception(
        self,
        info: Info,
        input: Annotated[
            ResolveReconciliationExceptionInput,
            strawberry.argument(description="The exception and how to resolve it."),
        ],
    ) -> ResolveReconciliationExceptionResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: resolving.resolve_exception(
                info.context.session_factory,
                principal,
                request=resolving.ResolutionRequest(
                    exception_id=decode_id(input.exception_id, "ReconciliationException", field="exceptionId"),
                    action=resolving.ResolutionAction(input.action.value),
                    reason=input.reason,
                    approved_by=input.approved_by,
                    payment_ids=decode_ids(input.payment_ids, "Payment", "paymentIds"),
                    line_ids=decode_ids(input.line_ids, "StatementLine", "lineIds"),
                    match_id=decode_id(input.match_id, "ReconciliationMatch", field="matchId") if input.match_id else None,
                    unit_id=decode_id(input.unit_id, "Unit", field="unitId") if input.unit_id else None,
                    payer_name=input.payer_name,
                ),
                signer=info.context.services.receipt_signer,
                now=info.context.now(),
            ),
            # The resolved exception as it stands; its links are read with the next query.
            lambda row: ReconciliationExceptionType.from_view(ExceptionView(row, Linked(), Locale.ZH_CN)),
        )

    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description="FINANCE, ADMIN: Add a matching rule to the project's list (last, or at its position); the next reconcile tries it.",
    )
    async def create_reconciliation_rule(
        self, info: Info, input: Annotated[CreateReconciliationRuleInput, strawberry.argument(description="The rule.")]
    ) -> ReconciliationRuleResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: rules.create_rule(
                info.context.session_factory,
                principal,
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                draft=_rule_draft(input),
            ),
            _rule,
        )

    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description="FINANCE, ADMIN: Replace a matching rule's name and conditions (and move it); matches it made stay.",
    )
    async def update_reconciliation_rule(
        self, info: Info, input: Annotated[UpdateReconciliationRuleInput, strawberry.argument(description="The rule as it now reads.")]
    ) -> ReconciliationRuleResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: rules.update_rule(
                info.context.session_factory,
                principal,
                rule_id=decode_id(input.rule_id, "ReconciliationRule", field="ruleId"),
                draft=_rule_draft(input),
            ),
            _rule,
        )

    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description="FINANCE, ADMIN: Stop trying a matching rule from the next reconcile on; it keeps its place and its matches.",
    )
    async def disable_reconciliation_rule(
        self, info: Info, rule_id: Annotated[strawberry.ID, strawberry.argument(description="The rule.")]
    ) -> ReconciliationRuleResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: rules.disable_rule(
                info.context.session_factory,
                principal,
                rule_id=decode_id(rule_id, "ReconciliationRule", field="ruleId"),
                now=info.context.now(),
            ),
            _rule,
        )

    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description="FINANCE, ADMIN: Try a disabled matching rule again from the next reconcile on, at the place it kept.",
    )
    async def enable_reconciliation_rule(
        self, info: Info, rule_id: Annotated[strawberry.ID, strawberry.argument(description="The rule.")]
    ) -> ReconciliationRuleResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: rules.enable_rule(
                info.context.session_factory,
                principal,
                rule_id=decode_id(rule_id, "ReconciliationRule", field="ruleId"),
            ),
            _rule,
        )

    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description="FINANCE, ADMIN: Close a day (日清日结) for one account or all of the project's; open exceptions need a sign-off reason.",
    )
    async def close_reconciliation_day(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
        day: Annotated[dt.date, strawberry.argument(description="The day to close (it must have ended).")],
        account_id: Annotated[strawberry.ID | None, strawberry.argument(description="One account; all of them when left out.")] = None,
        sign_off_reason: Annotated[
            str | None, strawberry.argument(description="Why the day closes with open exceptions (FINANCE or ADMIN signs it off).")
        ] = None,
    ) -> CloseReconciliationDayResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: closing.close_day(
                info.context.session_factory,
                principal,
                project_id=decode_id(project_id, "Project", field="projectId"),
                day=day,
                account_id=decode_id(account_id, "StatementAccount", field="accountId") if account_id else None,
                sign_off_reason=sign_off_reason,
                now=info.context.now(),
            ),
            lambda closes: CloseReconciliationDayPayload(closes=[DailyCloseType.from_row(close, account) for close, account in closes]),
        )


def _not_object() -> dict[str, object]:
    raise BadInput("bankProfile must be an object of BankProfile fields.", field="bankProfile")

