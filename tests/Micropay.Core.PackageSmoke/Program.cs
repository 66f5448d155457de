// The package smoke program: what a user writes first, built against the installed Micropay.Core package (not the
// repository's projects) in a fresh `dotnet new console` project, run as IL and published with NativeAOT (run.sh does
// both). It touches every namespace a user meets: the durable engine on the file store, accounts and transfers, a
// payment channel with a voucher verified offline, a device key with a signed order, and the audit log's receipt and
// offline journal audit. Exit code 0 when every result is as expected, 1 otherwise.

using Micropay.Core.Audit;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

const ulong Minute = 60UL * 1_000_000_000UL;
string directory = Path.Combine(Path.GetTempPath(), "micropay-smoke-" + Guid.NewGuid().ToString("N"));
int failures = 0;
void Check(bool ok, string what)
{
    Console.WriteLine((ok ? "ok    " : "FAIL  ") + what);
    failures += ok ? 0 : 1;
}

ulong now = (ulong)(DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100UL;
using SigningKey operatorKey = SigningKey.Generate();
using SigningKey deviceKey = SigningKey.Generate();
try
{
    NoteVerifierKey ledgerKey;
    await using (LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions
    {
        Store = new FileLedgerStore(Path.Combine(directory, "journal")),
        OperatorKey = operatorKey,
        Audit = new AuditOptions { Directory = Path.Combine(directory, "audit") },
    }))
    {
        ledgerKey = engine.AuditVerifierKey!;
        Account[] accounts =
        [
            new() { Id = 1, LedgerId = 978, Code = 1 },
            new() { Id = 2, LedgerId = 978, Code = 2, Flags = AccountFlags.DebitsMustNotExceedCredits },
            new() { Id = 3, LedgerId = 978, Code = 3 },
        ];
        Check(await engine.CreateAccountsAsync(accounts, new CreateAccountResult[3]) == 0, "accounts");
        Check(await engine.CreateTransferAsync(new Transfer { Id = 10, DebitAccountId = 1, CreditAccountId = 2, Amount = 100_000, LedgerId = 978, Code = 1 }) == CreateTransferResult.Ok, "transfer");
        Check(await engine.CreateTransferAsync(new Transfer { Id = 11, DebitAccountId = 2, CreditAccountId = 3, Amount = 1_000_000, LedgerId = 978, Code = 1 }) == CreateTransferResult.ExceedsCredits, "overdraft refused");

        Check(await engine.RegisterKeyAsync(2, deviceKey.VerificationKey, SpendingPolicy.Unlimited) == KeyResult.Ok, "device key");
        var paid = new Transfer { Id = 12, DebitAccountId = 2, CreditAccountId = 3, Amount = 500, LedgerId = 978, Code = 1 };
        Check(await engine.ExecuteOrderAsync(PaymentOrder.Sign(deviceKey, engine.InstanceId, paid, now + (5 * Minute))) == OrderResult.Ok, "signed order");

        ChannelConfig channel = ChannelConfig.CreateCumulative(engine.InstanceId, 2, 3, 978, deviceKey.VerificationKey, now + (60 * Minute), 10 * Minute, salt: 1);
        Check(await engine.OpenChannelAsync(ChannelOpenRequest.Sign(deviceKey, channel, 10_000)) == ChannelResult.Ok, "channel");
        Check(engine.TryIssueCertificate(channel.Id, out ChannelCertificate? certificate), "certificate");
        Check(ChannelReceiver.TryCreate(certificate!, operatorKey.VerificationKey, engine.InstanceId, 3, 5 * Minute, out ChannelReceiver? receiver, out _), "receiver");
        Voucher voucher = ChannelWallet.Create(channel, deviceKey, 10_000).Pay(lane: 0, amount: 25, validUntil: now + (30 * Minute));
        Check(receiver!.Accept(voucher, now, out _) == VoucherAcceptResult.Accepted, "voucher verified offline");
        Check(await engine.RedeemVoucherAsync(voucher) == ChannelResult.Ok, "voucher redeemed");

        Check(engine.TryGetReceipt(12, out AuditReceipt? receipt) == ReceiptStatus.Ok, "receipt");
        Check(ReceiptVerifier.Verify(receipt!.ToBytes(), ledgerKey, out AuditLeaf leaf) == ReceiptResult.Ok && leaf.Result == 0, "receipt verified offline");
        Check(engine.TryGetAccount(3, out Account shop) && shop.CreditsPosted == 525, "balances");
    }

    AuditReport report = await AuditVerifier.VerifyAsync(Path.Combine(directory, "journal"), Path.Combine(directory, "audit"), ledgerKey);
    Check(report.IsIntact, $"journal audited offline ({report})");
}
finally
{
    Directory.Delete(directory, recursive: true);
}

Console.WriteLine(failures == 0 ? "smoke: all checks passed" : $"smoke: {failures} checks failed");
return failures == 0 ? 0 : 1;
