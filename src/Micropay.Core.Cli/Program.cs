// micropay: the command-line tool for Micropay.Core ledgers. Each command lives in its own *Command.cs file; exit codes
// are in ExitCodes.cs and README.md. User errors print one line on stderr (CliAction), never a stack trace.

using System.CommandLine;
using Micropay.Core.Cli;

var root = new RootCommand(
    "micropay: keys, ledger inspection, offline audit, receipts and checkpoints for Micropay.Core ledgers.\n" + ExitCodes.HelpText)
{
    KeysCommand.Create(),
    LedgerCommand.Create(),
    AuditCommand.Create(),
    ReceiptCommand.Create(),
    CheckpointCommand.Create(),
};

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
