using System.Diagnostics;

namespace Micropay.Core.Hosting;

/// <summary>The package's activity source (<see cref="MicropayDiagnostics.ActivitySourceName"/>); an activity is created only when something listens.</summary>
internal static class MicropayActivities
{
    public static readonly ActivitySource Source = new(MicropayDiagnostics.ActivitySourceName, typeof(MicropayActivities).Assembly.GetName().Version?.ToString());
}
