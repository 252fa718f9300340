using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Funnel.Core.Benchmarks")]
