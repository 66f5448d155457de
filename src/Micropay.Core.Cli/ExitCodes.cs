namespace Micropay.Core.Cli;

/// <summary>The tool's exit codes: scripts branch on them, so they are part of its contract (README.md, <c>--help</c>).</summary>
internal static class ExitCodes
{
    /// <summary>Done; for a verification, everything verified.</summary>
    public const int Ok = 0;

    /// <summary>Bad arguments or input: an unknown option, a missing file, a malformed key, a refused overwrite (System.CommandLine's own parse errors are 1 too).</summary>
    public const int UsageError = 1;

    /// <summary>A verification failed: audit findings, a refused receipt, a checkpoint whose signature does not verify.</summary>
    public const int VerificationFailed = 2;

    /// <summary>The ledger could not be opened: no journal there, its lock held by a running engine, corruption, a failed replay.</summary>
    public const int LedgerUnavailable = 3;

    /// <summary>What was asked for is not there: an account id the ledger does not hold, a ledger with no checkpoint yet.</summary>
    public const int NotFound = 4;

    /// <summary>The text <c>--help</c> shows (the root command's description ends with it).</summary>
    public const string HelpText =
        "Exit codes: 0 ok; 1 usage or input error; 2 verification failed (audit findings, receipt refused, bad checkpoint signature); " +
        "3 ledger could not be opened (missing, locked by a running engine, corrupted); 4 not found (unknown account, no checkpoint yet).";
}
