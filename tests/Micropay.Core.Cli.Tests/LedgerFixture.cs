using Micropay.Core.Audit;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Cli.Tests;

/// <summary>
/// A ledger built once for the tests, the way an operator would: the operator key comes from the tool's own
/// <c>keys new</c>; the engine runs with its audit log on, creates two accounts, one payment and one refused payment,
/// hands out a receipt for the payment, takes a snapshot, and shuts down cleanly. Tests that damage files work on a
/// <see cref="Copy"/>.
/// </summary>
public sealed class LedgerFixture : IAsyncLifetime
{
    public const string KeyName = "cli-test-operator";
    public static readonly UInt128 PayerId = 1;
    public static readonly UInt128 ShopId = 2;
    public static readonly UInt128 PaymentId = 0xC0FFEE;

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "micropay-cli-tests-" + Guid.NewGuid().ToString("N"));

    public string Journal => Path.Combine(Root, "ledger", "journal");

    public string Audit => Path.Combine(Root, "ledger", "audit");

    public string OperatorKeyFile => Path.Combine(Root, "operator.key");

    public string ReceiptFile => Path.Combine(Root, "payment.receipt");

    public string CheckpointFile => Path.Combine(Root, "checkpoint.note");

    /// <summary>What <c>keys new</c> printed: the key's own verifier key (named <see cref="KeyName"/>).</summary>
    public string OperatorVerifierKey { get; private set; } = "";

    /// <summary>The ledger's checkpoint verifier key (the operator key's public half under the ledger's origin).</summary>
    public string LedgerVerifierKey { get; private set; } = "";

    public UInt128 InstanceId { get; private set; }

    public ulong LastBatch { get; private set; }

    /// <summary>The audit tree's leaves: one per journaled event (the new ledger's instance id, two accounts, three payments).</summary>
    public long TreeSize { get; private set; }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        CliResult keys = await CliProcess.RunAsync(Root, "keys", "new", "--name", KeyName, "--out", OperatorKeyFile);
        Assert.True(keys.ExitCode == 0, keys.ToString());
        OperatorVerifierKey = keys.Stdout.Trim();

        Assert.True(NoteSignerKey.TryParse(File.ReadAllText(OperatorKeyFile).Trim(), out NoteSignerKey? operatorKey, out string? error), error);
        using (operatorKey)
        {
            var options = new LedgerEngineOptions
            {
                Store = new FileLedgerStore(Journal),
                OperatorKey = operatorKey.SigningKey,
                Audit = new AuditOptions { Directory = Audit },
            };
            await using LedgerEngine engine = await LedgerEngine.OpenAsync(options);
            Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(new Account { Id = PayerId, LedgerId = 1, Code = 1 }));
            Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(new Account { Id = ShopId, LedgerId = 1, Code = 1 }));
            Assert.Equal(
                CreateTransferResult.Ok,
                await engine.CreateTransferAsync(new Transfer { Id = PaymentId, DebitAccountId = PayerId, CreditAccountId = ShopId, Amount = 250, LedgerId = 1, Code = 1 }));

            // A refused payment is a leaf too (its result is not Ok), but no transfer.
            Assert.NotEqual(
                CreateTransferResult.Ok,
                await engine.CreateTransferAsync(new Transfer { Id = PaymentId + 1, DebitAccountId = PayerId, CreditAccountId = 99, Amount = 1, LedgerId = 1, Code = 1 }));
            Assert.Equal(
                CreateTransferResult.Ok,
                await engine.CreateTransferAsync(new Transfer { Id = PaymentId + 2, DebitAccountId = ShopId, CreditAccountId = PayerId, Amount = 40, LedgerId = 1, Code = 1 }));

            Assert.Equal(ReceiptStatus.Ok, engine.TryGetReceipt(PaymentId, out AuditReceipt? receipt));
            await File.WriteAllBytesAsync(ReceiptFile, receipt!.ToBytes());
            await engine.TakeSnapshotAsync();
            await File.WriteAllTextAsync(CheckpointFile, engine.Checkpoint().Note);
            LedgerVerifierKey = engine.AuditVerifierKey!.ToString();
            InstanceId = engine.InstanceId;
            LastBatch = engine.ReleasedBatchNumber;
            TreeSize = engine.DurableAuditTreeSize;
            Assert.Equal(6, TreeSize);
        }
    }

    /// <summary>A copy of the ledger's directories (journal and audit) for a test that changes them.</summary>
    public (string Journal, string Audit) Copy()
    {
        string target = Path.Combine(Root, "copy-" + Guid.NewGuid().ToString("N"));
        foreach (string file in Directory.GetFiles(Path.Combine(Root, "ledger"), "*", SearchOption.AllDirectories))
        {
            string destination = Path.Combine(target, Path.GetRelativePath(Path.Combine(Root, "ledger"), file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        return (Path.Combine(target, "journal"), Path.Combine(target, "audit"));
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Root, recursive: true);
        return Task.CompletedTask;
    }
}
