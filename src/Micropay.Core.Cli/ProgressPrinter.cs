using System.Globalization;
using Micropay.Core.Engine;

namespace Micropay.Core.Cli;

/// <summary>
/// Shows the audit's progress on stderr (stdout keeps the report alone): a bar redrawn in place on a terminal, and where
/// stderr is a file or a pipe a plain line at each tenth, so logs stay readable.
/// </summary>
/// <remarks>
/// Reports arrive on the verifier's thread, synchronously (not through <see cref="Progress{T}"/>, which would post them
/// to the thread pool and could print after the report); the lock only guards against a caller reporting from two threads.
/// </remarks>
internal sealed class ProgressPrinter(TextWriter writer, bool interactive) : IProgress<AuditProgress>
{
    private const int BarWidth = 30;

    private readonly Lock _lock = new();
    private int _lastPercent = -1;
    private bool _drawn;

    public void Report(AuditProgress value)
    {
        // BytesTotal counts both passes; a damaged journal's second pass skips what the first found unsound, so the
        // last report may stay below 100 (Finish then says done).
        int percent = value.BytesTotal <= 0 ? 100 : (int)Math.Clamp(value.BytesDone * 100 / value.BytesTotal, 0, 100);
        lock (_lock)
        {
            if (interactive)
            {
                if (percent == _lastPercent)
                {
                    return;
                }

                int filled = percent * BarWidth / 100;
                writer.Write($"\rAuditing [{new string('#', filled)}{new string('.', BarWidth - filled)}] {percent.ToString(CultureInfo.InvariantCulture),3}%  batch {value.BatchesDone.ToString(CultureInfo.InvariantCulture)}");
                _drawn = true;
            }
            else
            {
                if (percent / 10 == _lastPercent / 10 && _lastPercent >= 0)
                {
                    return;
                }

                writer.WriteLine($"audit: {percent.ToString(CultureInfo.InvariantCulture)}%");
            }

            _lastPercent = percent;
        }
    }

    /// <summary>Ends the bar's line (on a terminal) so the report starts on its own.</summary>
    public void Finish()
    {
        lock (_lock)
        {
            if (_drawn)
            {
                writer.WriteLine();
            }
            else if (!interactive && _lastPercent < 100)
            {
                writer.WriteLine("audit: done");
            }
        }
    }
}
