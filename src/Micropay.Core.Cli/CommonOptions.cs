using System.CommandLine;

namespace Micropay.Core.Cli;

/// <summary>The arguments and options several commands share, described once.</summary>
internal static class CommonOptions
{
    public static Argument<string> JournalArgument() =>
        NoOptionLike(new Argument<string>("journal-dir") { Description = "The ledger's FileLedgerStore directory (its segment-*.seg files)." });

    /// <summary>
    /// Refuses an argument value that looks like an option: System.CommandLine hands an unknown "--x" to a string
    /// argument, which would then be reported as a missing directory rather than as the unknown option it is.
    /// </summary>
    public static Argument<string> NoOptionLike(Argument<string> argument)
    {
        argument.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (token.Value.StartsWith('-'))
                {
                    result.AddError($"Unrecognized option '{token.Value}' (where {argument.Name} was expected).");
                }
            }
        });
        return argument;
    }

    public static Option<string?> AuditOption(bool required) =>
        new("--audit") { Description = "The ledger's audit log directory (AuditOptions.Directory).", Required = required };

    public static Option<string?> OperatorKeyOption() =>
        new("--operator-key") { Description = "The operator's signer key file (from 'micropay keys new'); needed with --audit to open the audit log." };

    public static Option<string?> OriginOption() =>
        new("--origin")
        {
            Description = "The ledger's checkpoint origin, if it was created with AuditOptions.Origin [default: micropay/ledger/<instance id>].",
        };
}
