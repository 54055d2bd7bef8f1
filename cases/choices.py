"""Enumerations of the case domain, with translatable labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    CLOSED = "closed", _("Closed")
    ARCHIVED = "archived", _("Archived")


class CrimeType(models.TextChoices):
    INVESTMENT_FRAUD = "investment_fraud", _("Investment fraud")
    ROMANCE_FRAUD = "romance_fraud", _("Romance fraud")
    HUMAN_TRAFFICKING = "human_trafficking", _("Human trafficking")
    FORCED_LABOUR = "forced_labour", _("Forced labour")
    MONEY_LAUNDERING = "money_laundering", _("Money laundering")
    ILLEGAL_GAMBLING = "illegal_gambling", _("Illegal gambling")
    OTHER = "other", _("Other")


class HandlingCode(models.TextChoices):
    """Traffic Light Protocol 2.0 (FIRST)."""

    CLEAR = "CLEAR", "TLP:CLEAR"
    GREEN = "GREEN", "TLP:GREEN"
    AMBER = "AMBER", "TLP:AMBER"
    AMBER_STRICT = "AMBER+STRICT", "TLP:AMBER+STRICT"
    RED = "RED", "TLP:RED"


class HandlingInstruction(models.TextChoices):
    """Europol SIENA handling codes, carried beside TLP."""

    H0 = "H0", _("H0: use only for the purpose of fighting crime")
    H1 = "H1", _("H1: not for use in court without the provider's permission")
    H2 = "H2", _("H2: not to be disseminated without the provider's permission")
    H3 = "H3", _("H3: other restriction (see text)")


class AccessLevel(models.TextChoices):
    """What an agency may do with a case it was given.

    Ordered: each level includes the ones before it.
    """

    VIEW = "view", _("View")
    CONTRIBUTE = "contribute", _("Contribute")
    MANAGE = "manage", _("Manage")


ACCESS_LEVEL_ORDER: list[str] = [AccessLevel.VIEW, AccessLevel.CONTRIBUTE, AccessLevel.MANAGE]


class TaskStatus(models.TextChoices):
    TODO = "todo", _("To do")
    IN_PROGRESS = "in_progress", _("In progress")
    BLOCKED = "blocked", _("Blocked")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class TaskPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class SourceReliability(models.TextChoices):
    """The 4x4 evaluation used by Europol and national police forces."""

    A = "A", _("A: no doubt about the source")
    B = "B", _("B: source proved reliable in most cases")
    C = "C", _("C: source proved unreliable in most cases")
    X = "X", _("X: reliability cannot be assessed")


class InformationAccuracy(models.TextChoices):
    KNOWN = "1", _("1: known to be true without reservation")
    KNOWN_TO_SOURCE = "2", _("2: known personally to the source, not to the official")
    NOT_KNOWN = "3", _("3: not known personally to the source, corroborated")
    UNCORROBORATED = "4", _("4: not known personally to the source, cannot be corroborated")


# --- mutual legal assistance --------------------------------------------------


class MLAKind(models.TextChoices):
    """A full request, or a Budapest Convention art. 29 preservation request.

    Preservation asks the requested side to freeze stored data at once,
    pending the full request that replaces it.
    """

    FULL = "full", _("Mutual legal assistance request")
    PRESERVATION = "preservation", _("Preservation request")


class LegalBasis(models.TextChoices):
    BILATERAL_TREATY = "bilateral_treaty", _("Bilateral treaty")
    ASEAN_MLAT = (
        "asean_mlat_2004",
        _("ASEAN Treaty on Mutual Legal Assistance in Criminal Matters (2004)"),
    )
    UNTOC = "untoc", _("UN Convention against Transnational Organized Crime (UNTOC)")
    UNCAC = "uncac", _("UN Convention against Corruption (UNCAC)")
    UN_CYBERCRIME = "un_cybercrime", _("UN Convention against Cybercrime")
    RECIPROCITY = "reciprocity", _("Reciprocity")


class AssistanceType(models.TextChoices):
    BANK_RECORDS = "bank_records", _("Bank records")
    SUBSCRIBER_DATA = "subscriber_data", _("Subscriber or traffic data")
    SEARCH_AND_SEIZURE = "search_and_seizure", _("Search and seizure")
    WITNESS_STATEMENT = "witness_statement", _("Witness statement")
    ASSET_RECOVERY = "asset_recovery", _("Asset tracing, freezing or confiscation")
    SERVICE_OF_DOCUMENTS = "service_of_documents", _("Service of documents")
    OTHER = "other", _("Other")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")


class MLAStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    MORE_INFO_REQUESTED = "more_info_requested", _("More information requested")
    IN_EXECUTION = "in_execution", _("In execution")
    EXECUTED = "executed", _("Executed")
    PARTIALLY_EXECUTED = "partially_executed", _("Partially executed")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class MLASide(models.TextChoices):
    """Which party to a request acts: the one asking or the one asked."""

    REQUESTING = "requesting", _("Requesting side")
    REQUESTED = "requested", _("Requested side")


class IdentifierKind(models.TextChoices):
    """What an identifier recorded for deconfliction is."""

    CRYPTO_WALLET = "crypto_wallet", _("Crypto wallet address")
    CRYPTO_TX = "crypto_tx", _("Crypto transaction hash")
    PHONE = "phone", _("Phone number")
    EMAIL = "email", _("E-mail address")
    IBAN = "iban", _("IBAN")
    BANK_ACCOUNT = "bank_account", _("Bank account (domestic)")
    DOMAIN = "domain", _("Domain name")
    URL = "url", _("URL")
    SOCIAL_HANDLE = "social_handle", _("Social-media handle")
    PERSON = "person", _("Person (name, date of birth, nationality)")
    PASSPORT = "passport", _("Passport or ID document number")
    COMPANY = "company", _("Company (name, registration number)")
    IP_ADDRESS = "ip_address", _("IP address")


class Chain(models.TextChoices):
    """Blockchains whose address rules Casebridge knows.

    EVM chains share one address space (the same key controls the same
    address on each), so their addresses match across them.
    """

    BITCOIN = "bitcoin", _("Bitcoin")
    ETHEREUM = "ethereum", _("Ethereum")
    BSC = "bsc", _("BNB Smart Chain")
    POLYGON = "polygon", _("Polygon")
    ARBITRUM = "arbitrum", _("Arbitrum")
    TRON = "tron", _("TRON")
    OTHER = "other", _("Other")


EVM_CHAINS = (Chain.ETHEREUM, Chain.BSC, Chain.POLYGON, Chain.ARBITRUM)


class ShareProposalStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class ShareProposalOutcome(models.TextChoices):
    """What accepting a proposal did; the lead's to know alone (the proposer
    would otherwise learn of a confidential participant)."""

    SHARED = "shared", _("Shared")
    ALREADY_PARTICIPATING = "already_participating", _("Already participates")


class SearchKind(models.TextChoices):
    """What the full-text search looks in (`cases.search`)."""

    CASE = "case", _("Case")
    NOTE = "note", _("Note")
    TASK = "task", _("Task")
    DOCUMENT = "document", _("Document")
    IDENTIFIER = "identifier", _("Identifier")


# --- networks and money -------------------------------------------------------


class EntityKind(models.TextChoices):
    """What an entity on a case is: someone, a company, somewhere."""

    PERSON = "person", _("Person")
    ORGANISATION = "organisation", _("Organisation")
    PLACE = "place", _("Place")


class PersonRole(models.TextChoices):
    """A person's part in the case. A victim is recorded TLP:RED unless the
    recording agency says otherwise (`cases.networks`)."""

    SUSPECT = "suspect", _("Suspect")
    FACILITATOR = "facilitator", _("Facilitator")
    VICTIM = "victim", _("Victim")
    WITNESS = "witness", _("Witness")


class LinkKind(models.TextChoices):
    """How one node of a case's network (an entity or an identifier) relates
    to another, read from the first to the second."""

    CONTROLS = "controls", _("controls")
    OWNS = "owns", _("owns")
    EMPLOYS = "employs", _("employs")
    MEMBER_OF = "member_of", _("is a member of")
    USES_PHONE = "uses_phone", _("uses the phone")
    HOLDS_ACCOUNT = "holds_account", _("holds the account")
    HOLDS_WALLET = "holds_wallet", _("holds the wallet")
    LOCATED_AT = "located_at", _("is located at")
    TRANSFERRED_TO = "transferred_to", _("transferred money to")
    ASSOCIATED_WITH = "associated_with", _("is associated with")


class AssetKind(models.TextChoices):
    CRYPTO = "crypto", _("Crypto-assets")
    BANK_BALANCE = "bank_balance", _("Bank balance")
    REAL_ESTATE = "real_estate", _("Real estate")
    VEHICLE = "vehicle", _("Vehicle")
    CASH = "cash", _("Cash")


class AssetState(models.TextChoices):
    """Where an asset stands, in the order it usually moves (`cases.networks`
    holds the allowed steps)."""

    FROZEN = "frozen", _("Frozen")
    SEIZED = "seized", _("Seized")
    CONFISCATED = "confiscated", _("Confiscated")
    RETURNED = "returned", _("Returned to victims")


class GraphKind(models.TextChoices):
    """What the network picture of a case can be filtered by (`cases.graph`):
    the kinds of its nodes, then of its edges."""

    PERSON = "person", _("Persons")
    ORGANISATION = "organisation", _("Organisations")
    PLACE = "place", _("Places")
    IDENTIFIER = "identifier", _("Accounts, wallets and other identifiers")
    CASE = "case", _("Other cases")
    LINK = "link", _("Links")
    TRANSACTION = "transaction", _("Transactions")
