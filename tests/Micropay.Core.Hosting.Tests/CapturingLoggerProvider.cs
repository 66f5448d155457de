using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Micropay.Core.Hosting.Tests;

/// <summary>Keeps every log entry written through the host's logging, so tests can assert on event ids.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    /// <summary>This package's entries with the id (the host's own events reuse small ids in other categories).</summary>
    public IReadOnlyList<LogEntry> WithId(int eventId) =>
        [.. _entries.Where(e => e.EventId.Id == eventId && e.Category.StartsWith("Micropay.Core.Hosting", StringComparison.Ordinal))];

    public sealed record LogEntry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception, IReadOnlyList<KeyValuePair<string, object?>> State);

    private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            IReadOnlyList<KeyValuePair<string, object?>> values = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
            provider._entries.Enqueue(new LogEntry(category, logLevel, eventId, formatter(state, exception), exception, values));
        }
    }
}
