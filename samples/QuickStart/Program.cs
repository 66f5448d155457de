// QuickStart: the Micropay.Core ledger in one page.
//
// A coffee shop sells by the sip. An operator (the bank) funds a user's wallet; the user pays the merchant once
// directly, then through a hold (an authorisation) that is captured for less than was held. Along the way the
// sample shows the two guarantees payments rely on: a retried transfer is never applied twice, and a transfer
// that failed stays failed.
//
// Every result is checked. CI runs this program: any unexpected result makes it exit with code 1.
//
// Amounts are integers in the ledger's smallest unit; here 1 unit = 1/1000 of a cent ("millicent"), so a
// micropayment of a fraction of a cent is still a whole number.

using Micropay.Core.Ledger;

// ---------------------------------------------------------------------------------------------------------
// Ids and codes are chosen by the application. Ids are the idempotency keys: in a real application they come
// from your database or are random 128-bit values (e.g. a UUIDv7), never reused for another purpose.
// ---------------------------------------------------------------------------------------------------------
const uint Eur = 978;          // the ledger (currency) every account and transfer below belongs to
const ushort OperatorCode = 1; // account codes: what kind of account this is (application-defined)
const ushort WalletCode = 2;
const ushort MerchantCode = 3;
const ushort PaymentCode = 10; // transfer codes: why the money moved (application-defined)
const ushort TopUpCode = 11;

UInt128 bankId = 1001;
UInt128 walletId = 2001;
UInt128 merchantId = 3001;

// The ledger is a single-threaded, deterministic state machine: no I/O, no clock of its own. Every batch
// carries a timestamp (nanoseconds of a logical clock, normally the wall clock) chosen by the caller; the
// ledger makes event timestamps strictly increasing even if that clock goes backwards. A fixed clock keeps this
// sample's output identical on every run.
var ledger = new Ledger();
ulong now = 1_000_000_000_000; // "1000 seconds" on the logical clock
const ulong OneSecond = 1_000_000_000;

// ---------------------------------------------------------------------------------------------------------
// 1. Accounts: one batch, one result per account.
// ---------------------------------------------------------------------------------------------------------
Account[] accounts =
[
    // The operator's own account: it issues the money (its debits exceed its credits), so it has no limit flag.
    new Account { Id = bankId, LedgerId = Eur, Code = OperatorCode },

    // The user's wallet may never spend more than was paid into it: the ledger enforces
    // DebitsPending + DebitsPosted <= CreditsPosted on every transfer (holds count against the limit too).
    new Account { Id = walletId, LedgerId = Eur, Code = WalletCode, Flags = AccountFlags.DebitsMustNotExceedCredits },

    new Account { Id = merchantId, LedgerId = Eur, Code = MerchantCode },
];
var accountResults = new CreateAccountResult[accounts.Length];
ledger.CreateAccounts(now, accounts, accountResults);
for (int i = 0; i < accounts.Length; i++)
{
    Expect(accountResults[i], CreateAccountResult.Ok, $"create account {accounts[i].Id}");
}

Step("Created the operator, a wallet (DebitsMustNotExceedCredits) and a merchant.");

// ---------------------------------------------------------------------------------------------------------
// 2. A batch of transfers: top up the wallet, then pay for a coffee in a single phase.
//    Transfers in a batch are applied in order, so the payment already sees the top-up.
// ---------------------------------------------------------------------------------------------------------
now += OneSecond;
Transfer topUp = new()
{
    Id = 1,
    DebitAccountId = bankId,
    CreditAccountId = walletId,
    Amount = 500_000, // 5.00 EUR
    LedgerId = Eur,
    Code = TopUpCode,
};
Transfer coffee = new()
{
    Id = 2,
    DebitAccountId = walletId,
    CreditAccountId = merchantId,
    Amount = 250_000, // 2.50 EUR, posted at once (single-phase)
    LedgerId = Eur,
    Code = PaymentCode,
    UserData64 = 42, // opaque to the ledger, e.g. the order number
};
var transferResults = new CreateTransferResult[2];
int failed = ledger.CreateTransfers(now, [topUp, coffee], transferResults);
Expect(transferResults[0], CreateTransferResult.Ok, "top up the wallet");
Expect(transferResults[1], CreateTransferResult.Ok, "pay for a coffee");
Expect(failed, 0, "failed transfers in the first batch");
Step("Topped up 5.00 EUR and paid 2.50 EUR for a coffee.");

// ---------------------------------------------------------------------------------------------------------
// 3. Idempotency: the network dropped the reply, so the client sends the coffee payment again. The same id
//    with the same fields returns Exists and changes nothing: the user is charged once.
// ---------------------------------------------------------------------------------------------------------
now += OneSecond;
Expect(ledger.CreateTransfer(now, coffee), CreateTransferResult.Exists, "retry the coffee payment");
Step("Retried the coffee payment: Exists, nothing charged twice.");

// ---------------------------------------------------------------------------------------------------------
// 4. A hold (two-phase transfer): metered Wi-Fi reserves 1.00 EUR for up to 10 minutes. The amount moves into
//    the pending balances; the wallet cannot spend it elsewhere meanwhile.
// ---------------------------------------------------------------------------------------------------------
now += OneSecond;
Transfer hold = new()
{
    Id = 3,
    DebitAccountId = walletId,
    CreditAccountId = merchantId,
    Amount = 100_000, // 1.00 EUR held
    LedgerId = Eur,
    Code = PaymentCode,
    Flags = TransferFlags.Pending,
    Timeout = 600, // seconds of the logical clock; if neither posted nor voided by then, the hold is released
};
Expect(ledger.CreateTransfer(now, hold), CreateTransferResult.Ok, "place a hold");
Step("Held 1.00 EUR for metered Wi-Fi (pending, expires in 600 s).");
PrintBalances(ledger, "Balances while the hold is open");

// ---------------------------------------------------------------------------------------------------------
// 5. The session used only 0.60 EUR: post part of the hold. The posted amount moves to the posted balances and
//    the remainder (0.40 EUR) is released back to the wallet. A post may leave the accounts, ledger and code
//    zero: the ledger takes them from the pending transfer. (Amount = UInt128.MaxValue would post all of it;
//    VoidPendingTransfer would release all of it.)
// ---------------------------------------------------------------------------------------------------------
now += OneSecond;
Transfer capture = new()
{
    Id = 4,
    PendingId = hold.Id,
    Amount = 60_000, // 0.60 EUR posted, 0.40 EUR released
    Flags = TransferFlags.PostPendingTransfer,
};
Expect(ledger.CreateTransfer(now, capture), CreateTransferResult.Ok, "post part of the hold");
Expect(ledger.TryGetPendingStatus(hold.Id, out PendingStatus holdStatus), true, "look up the hold");
Expect(holdStatus, PendingStatus.Posted, "state of the hold after the post");

// A hold is posted or voided once; a second post of the same hold (with a new id) is refused.
now += OneSecond;
Transfer secondCapture = capture with { Id = 5 };
Expect(ledger.CreateTransfer(now, secondCapture), CreateTransferResult.PendingTransferAlreadyPosted, "post the hold again");
Step("Posted 0.60 EUR of the hold; 0.40 EUR released; a second post is refused.");

// ---------------------------------------------------------------------------------------------------------
// 6. The wallet's limit: the user tries to pay 5.00 EUR with 1.90 EUR left. The transfer fails with
//    ExceedsCredits, and because that outcome depends on the ledger's state (a "transient" failure) its id is
//    burnt: retrying it fails with IdAlreadyFailed even after a top-up, so a payment the user was told failed
//    can never go through later by surprise. A new attempt needs a new id.
// ---------------------------------------------------------------------------------------------------------
now += OneSecond;
Transfer tooMuch = coffee with { Id = 6, Amount = 500_000 };
Expect(ledger.CreateTransfer(now, tooMuch), CreateTransferResult.ExceedsCredits, "overspend the wallet");
now += OneSecond;
Expect(ledger.CreateTransfer(now, tooMuch), CreateTransferResult.IdAlreadyFailed, "retry the overspend");
Step("A 5.00 EUR payment failed with ExceedsCredits; its retry returns IdAlreadyFailed.");

// ---------------------------------------------------------------------------------------------------------
// 7. Read back: the stored post carries the accounts and amount taken from the hold.
// ---------------------------------------------------------------------------------------------------------
Expect(ledger.TryGetTransfer(capture.Id, out Transfer storedCapture), true, "look up the post");
Expect(storedCapture.DebitAccountId, walletId, "debit account of the stored post");
Expect(storedCapture.Amount, (UInt128)60_000, "amount of the stored post");
PrintBalances(ledger, "Final balances");

// Expected final state, in millicents: the wallet got 500_000 and spent 250_000 + 60_000; nothing is pending.
ExpectBalance(ledger, bankId, posted: -500_000, pending: 0);
ExpectBalance(ledger, walletId, posted: 190_000, pending: 0);
ExpectBalance(ledger, merchantId, posted: 310_000, pending: 0);

// Double entry: every transfer debits one account and credits another by the same amount, so the sums match.
UInt128 debits = 0, credits = 0;
foreach (Account account in ledger.Accounts)
{
    debits += account.DebitsPosted;
    credits += account.CreditsPosted;
}

Expect(debits, credits, "sum of posted debits equals sum of posted credits");
Console.WriteLine($"Ledger: {ledger.AccountCount} accounts, {ledger.TransferCount} transfers, all results as expected.");
return 0;

// ---------------------------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------------------------

// Prints each account's net balance (credits minus debits, as the account holder sees it) and its holds.
static void PrintBalances(Ledger ledger, string title)
{
    Console.WriteLine();
    Console.WriteLine(title + " (EUR):");
    Console.WriteLine($"  {"account",-10} {"debits",10} {"credits",10} {"net",10} {"held out",10} {"held in",10} {"available",10}");
    foreach (Account a in ledger.Accounts)
    {
        // Available = what the holder can still spend: net posted balance minus what is held against it.
        Int128 net = Net(a);
        Int128 available = net - (Int128)a.DebitsPending;
        Console.WriteLine(
            $"  {Name(a.Code),-10} {Money((Int128)a.DebitsPosted),10} {Money((Int128)a.CreditsPosted),10} {Money(net),10} " +
            $"{Money((Int128)a.DebitsPending),10} {Money((Int128)a.CreditsPending),10} {Money(available),10}");
    }

    Console.WriteLine();
}

static Int128 Net(in Account a) => (Int128)a.CreditsPosted - (Int128)a.DebitsPosted;

static string Name(ushort code) => code switch
{
    OperatorCode => "operator",
    WalletCode => "wallet",
    MerchantCode => "merchant",
    _ => code.ToString(System.Globalization.CultureInfo.InvariantCulture),
};

// Millicents to euros with two decimals (the amounts in this sample are whole cents).
static string Money(Int128 millicents) =>
    ((decimal)millicents / 100_000m).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);

static void ExpectBalance(Ledger ledger, UInt128 id, Int128 posted, Int128 pending)
{
    // LookupAccounts is the batch form of TryGetAccount: it returns the accounts found, in the order asked.
    Span<Account> found = new Account[1];
    Expect(ledger.LookupAccounts([id], found), 1, $"look up account {id}");
    Expect(Net(found[0]), posted, $"net posted balance of account {id}");
    Expect((Int128)found[0].CreditsPending - (Int128)found[0].DebitsPending, pending, $"net pending balance of account {id}");
}

static void Step(string message) => Console.WriteLine("ok  " + message);

// Any unexpected result is a failure of the sample (and of CI): say what was expected and stop.
static void Expect<T>(T actual, T expected, string what)
{
    if (!EqualityComparer<T>.Default.Equals(actual, expected))
    {
        Console.Error.WriteLine($"FAILED: {what}: expected {expected}, got {actual}.");
        Environment.Exit(1);
    }
}
