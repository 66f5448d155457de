using System.CommandLine;
using System.Globalization;
using Micropay.Core.Audit;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Cli;

/// <summary><c>micropay receipt verify</c>: checks a payment receipt offline (<see cref="ReceiptVerifier"/>).</summary>
internal static class ReceiptCommand
{
    public static Command Create()
    {
        var command = new Command("receipt", "Check receipts (AuditReceipt.ToBytes) offline, with the ledger's verifier key alone.");
        command.Subcommands.Add(CreateVerify());
        return command;
    }

    private static Command CreateVerify()
    {
        var file = CommonOptions.NoOptionLike(new Argument<string>("receipt-file") { Description = "The receipt's bytes (AuditReceipt.ToBytes)." });
        var key = new Option<string>("--key", "-k")
        {
            Description = "The ledger's verifier key (name+hash+base64), or a file holding it.",
            Required = true,
        };
        var command = new Command(
            "verify",
            "Check the receipt's checkpoint signature and origin and the leaf's inclusion proof; print the leaf (batch, index, timestamp, " +
            "result, operation) and OK, or the reason it is refused. Exit code 0 OK, 2 refused, 1 bad input.")
        {
            file, key,
        };
        command.SetAction(CliAction.Run((parseResult, cancellationToken) =>
        {
            string path = parseResult.GetRequiredValue(file);
            NoteVerifierKey ledgerKey = KeyInput.ReadVerifierKey(parseResult.GetRequiredValue(key), origin: null, "--key");
            if (!File.Exists(path))
            {
                throw new CommandException(ExitCodes.UsageError, $"the receipt file '{path}' does not exist.");
            }

            byte[] bytes = File.ReadAllBytes(path);
            ReceiptResult result = ReceiptVerifier.Verify(bytes, ledgerKey, out AuditLeaf leaf);
            if (result != ReceiptResult.Ok)
            {
                // Only a verified leaf is shown: an unverified one is whatever the file claims.
                Console.Out.WriteLine($"REFUSED: {result}: {Explain(result)}");
                return Task.FromResult(ExitCodes.VerificationFailed);
            }

            TextWriter o = Console.Out;
            _ = AuditReceipt.TryParse(bytes, out AuditReceipt? receipt, out string? _);
            o.WriteLine(FormattableString.Invariant($"Leaf index:   {receipt!.LeafIndex}"));
            o.WriteLine(FormattableString.Invariant($"Batch:        {leaf.BatchNumber}"));
            o.WriteLine(FormattableString.Invariant($"Event index:  {leaf.EventIndex}"));
            o.WriteLine(FormattableString.Invariant($"Timestamp:    {leaf.Timestamp} ({DescribeTimestamp(leaf.Timestamp)})"));
            o.WriteLine(FormattableString.Invariant($"Operation:    {leaf.Operation}"));
            o.WriteLine(FormattableString.Invariant($"Result:       {leaf.Result} ({DescribeResult(leaf.Operation, leaf.Result)})"));
            if (leaf.TryGetTransfer(out Transfer transfer))
            {
                o.WriteLine(FormattableString.Invariant(
                    $"Transfer:     id {transfer.Id}, debit {transfer.DebitAccountId}, credit {transfer.CreditAccountId}, amount {transfer.Amount}, ledger {transfer.LedgerId}, code {transfer.Code}"));
            }

            o.WriteLine($"Key:          {ledgerKey}");
            o.WriteLine("OK");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    /// <summary>The ledger's timestamps are nanoseconds since the Unix epoch (at 100 ns resolution, plus the event's index).</summary>
    private static string DescribeTimestamp(ulong nanoseconds) =>
        DateTime.UnixEpoch.AddTicks((long)Math.Min(nanoseconds / 100, (ulong)(DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks)))
            .ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>The result code's name where the operation's result enum is known here; 0 is Ok for every operation.</summary>
    private static string DescribeResult(BatchOperation operation, uint result) => operation switch
    {
        BatchOperation.CreateAccounts => ((CreateAccountResult)result).ToString(),
        BatchOperation.CreateTransfers => ((CreateTransferResult)result).ToString(),
        _ => result == 0 ? "Ok" : "failed",
    };

    private static string Explain(ReceiptResult result) => result switch
    {
        ReceiptResult.Malformed => "the receipt, its leaf or its checkpoint does not parse.",
        ReceiptResult.NotSignedByLedger => "the checkpoint carries no signature by this key.",
        ReceiptResult.BadSignature => "the key's signature on the checkpoint does not verify: the checkpoint was altered.",
        ReceiptResult.WrongOrigin => "the checkpoint's origin is not the key's name: a checkpoint of another ledger.",
        ReceiptResult.LeafOutsideTree => "the leaf's index is outside the checkpoint's tree.",
        ReceiptResult.ProofInvalid => "the inclusion proof does not lead from the leaf to the checkpoint's root: the leaf or the proof was altered.",
        _ => "the receipt does not verify.",
    };
}
