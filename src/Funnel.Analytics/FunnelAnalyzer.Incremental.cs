using System.Collections.Immutable;
using System.Globalization;
using FluentValidation;
using Funnel.Events;
using NodaTime;

// The two Analyze overloads differ in their first parameter's type, so no call can bind differently when either gains
// an optional parameter; the rule is about growing one overload set by optional parameters.
[assembly: System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Overloads by store type.", Scope = "member", Target = "~M:Funnel.Analytics.FunnelAnalyzer.Analyze(Funnel.Analytics.AnalyticsEventStore,Funnel.Analytics.FunnelQuery,System.Threading.CancellationToken)~Funnel.Analytics.FunnelAnalysis")]
[assembly: System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Overloads by store type.", Scope = "member", Target = "~M:Funnel.Analytics.FunnelAnalyzer.Analyze(Funnel.Analytics.IncrementalAnalyticsStore,Funnel.Analytics.FunnelQuery,System.Threading.CancellationToken)~Funnel.Analytics.FunnelAnalysis")]

namespace Funnel.Analytics;

/// <content>The analysis over an <see cref="IncrementalAnalyticsStore"/>: base events plus appended ones.</content>
public static partial class FunnelAnalyzer
{
    /// <summary>Analyses an ordered funnel over a base store and the events appended to it.</summary>
    /// <param name="store">The events.</param>
    /// <param name="query">The question.</param>
    /// <param name="cancellationToken">Stops the analysis between lead ranges.</param>
    /// <returns>
    /// The same answer as over a store loaded from all the events; drop-off lists follow the incremental store's lead
    /// order (base leads, then new leads in order of their first append).
    /// </returns>
    /// <remarks>
    /// A lead without appended events is evaluated straight from the base's arrays; a lead with some has its base and
    /// appended events merged in time order into a per-thread buffer first, so the cost grows with the leads touched
    /// by appends, not with the size of the base.
    /// </remarks>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ValidationException">The query is invalid; the message names the property.</exception>
    /// <exception cref="ArgumentException">The breakdown names a property the store did not capture.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static FunnelAnalysis Analyze(IncrementalAnalyticsStore store, FunnelQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(query);
        Validator.ValidateAndThrow(query);
        store.GroupPending();
        AnalyticsEventStore view = store.DictionaryView();
        int n = query.Funnel.Steps.Length;
        ulong[] termMask = BuildMasks(view, query);
        long window = query.Window.BclCompatibleTicks;
        Engine engine = ChooseEngine(query, termMask);
        bool hasExclusions = !query.Exclusions.IsDefaultOrEmpty;
        IncrementalGrouping groups = IncrementalGrouping.Create(store, view, query.Breakdown);
        bool needPicks = query.IncludeTimeToConvert || groups.Count > 0 || query.IncludeMoney;
        bool[]? refundTerms = FunnelMoneyTally.RefundTerms(view, query);
        FunnelMoneyTally.AppendedMoney? appendedMoney = query.IncludeMoney
            ? new FunnelMoneyTally.AppendedMoney([.. view.TermsOfType(EventTypes.OrderPlaced).Zip(refundTerms!, (o, r) => o || r)], store.AppendedAmounts())
            : null;
        int leadCount = store.LeadSlots;
        int baseLeads = store.BaseLeadCount;
        int threads = query.MaxDegreeOfParallelism ?? Environment.ProcessorCount;
        int chunkCount = leadCount == 0 ? 0 : Math.Min(leadCount, Math.Max(1, threads * 8));
        var chunks = new ChunkResult[chunkCount];
        AnalyticsEventStore baseStore = store.BaseStore;
        int[] head = store.Head;
        byte[] flags = store.Flags;

        void Run(int c)
        {
            int from = (int)((long)leadCount * c / chunkCount);
            int to = (int)((long)leadCount * (c + 1) / chunkCount);
            var result = new ChunkResult(n, groups.Count, query.IncludeTimeToConvert, query.IncludeDropOffs)
            {
                // The base's money rows of the base leads in this range; a range of new leads starts past them all.
                Money = FunnelMoneyTally.For(view, query, refundTerms, groups.Count, Math.Min(from, baseLeads)),
            };
            var buffer = new LeadScratch();
            Span<int> picks = stackalloc int[n];
            Span<int> scratch = stackalloc int[n];
            Span<long> state = stackalloc long[n + 2];
            long[] baseTimes = baseStore.Times;
            int[] baseTerms = baseStore.Terms;
            int[] offsets = baseStore.Offsets;
            for (int lead = from; lead < to; lead++)
            {
                int depth;
                long[] times;
                int[]? sources;
                int length = 0;
                if (flags[lead] == IncrementalAnalyticsStore.MergedAway)
                {
                    continue;
                }

                if (lead < baseLeads && head[lead] == 0 && flags[lead] == 0)
                {
                    times = baseTimes;
                    sources = null;
                    depth = EvaluateLead(baseTimes, baseTerms, termMask, offsets[lead], offsets[lead + 1], n, window, engine, hasExclusions, needPicks, picks, scratch, state);
                }
                else
                {
                    length = buffer.Gather(store, lead);
                    times = buffer.Times;
                    sources = buffer.Sources;
                    depth = EvaluateLead(times, buffer.Terms, termMask, 0, length, n, window, engine, hasExclusions, needPicks, picks, scratch, state);
                }

                result.Histogram[depth]++;
                if (depth == 0)
                {
                    continue;
                }

                int g = -1;
                if (groups.Count > 0)
                {
                    g = groups.GroupOf(store, lead, sources is null ? picks[0] : sources[picks[0]]);
                    result.GroupHistogram[(g * (n + 1)) + depth]++;
                }

                if (result.Money is { } money)
                {
                    if (sources is null)
                    {
                        money.Add(offsets[lead], offsets[lead + 1], depth, times[picks[0]], g);
                    }
                    else
                    {
                        money.AddMerged(times, buffer.Terms, sources, length, depth, times[picks[0]], g, appendedMoney!);
                    }
                }

                result.AddChain(times, picks, depth, n, lead);
            }

            chunks[c] = result;
        }

        RunChunks(chunkCount, threads, Run, cancellationToken);

        return Merge(query, chunks, new MergeSource(store.LeadCount, store.EventCount, store.LeadAt, groups.Count, groups.Name, query.IncludeMoney ? view : null));
    }

    /// <summary>Maps a lead of an incremental store (and its chain's first event) to a breakdown group.</summary>
    private sealed class IncrementalGrouping
    {
        private readonly int dimension;
        private readonly int[]? leadCodes;
        private readonly string?[] names;

        private IncrementalGrouping(int dimension, int[]? leadCodes, string?[] names)
        {
            this.dimension = dimension;
            this.leadCodes = leadCodes;
            this.names = names;
        }

        public int Count => names.Length;

        public static IncrementalGrouping Create(IncrementalAnalyticsStore store, AnalyticsEventStore view, FunnelBreakdown? breakdown)
        {
            if (breakdown is null)
            {
                return new IncrementalGrouping(-1, null, []);
            }

            switch (breakdown.Kind)
            {
                case FunnelBreakdownKind.Channel:
                    return new IncrementalGrouping(AnalyticsEventStore.ChannelDimension, null, view.DimensionValues[AnalyticsEventStore.ChannelDimension]);
                case FunnelBreakdownKind.Campaign:
                    return new IncrementalGrouping(AnalyticsEventStore.CampaignDimension, null, view.DimensionValues[AnalyticsEventStore.CampaignDimension]);
                case FunnelBreakdownKind.Property:
                    int d = view.PropertyDimension(breakdown.Key!);
                    if (d < 0)
                    {
                        throw new ArgumentException($"Breakdown property '{breakdown.Key}' was not captured by the store; add it to AnalyticsStoreOptions.PropertyKeys.", nameof(breakdown));
                    }

                    return new IncrementalGrouping(d, null, view.DimensionValues[d]);
                case FunnelBreakdownKind.Variant:
                    return ByVariant(store, view, breakdown.Key!);
                default:
                    return ByFirstTouchWeek(store, breakdown.Zone ?? DateTimeZone.Utc);
            }
        }

        public int GroupOf(IncrementalAnalyticsStore store, int lead, int startSource) =>
            leadCodes is not null ? leadCodes[lead] : store.DimensionCode(dimension, startSource);

        public string? Name(int group) => names[group];

        /// <summary>Per lead, the variant of its first exposure in merged order: the base's wins a tie.</summary>
        private static IncrementalGrouping ByVariant(IncrementalAnalyticsStore store, AnalyticsEventStore view, string experiment)
        {
            bool[] exposure = view.TermsMatching(new Funnel.Definitions.EventMatch(EventTypes.ExperimentExposed, experiment));
            AnalyticsEventStore baseStore = store.BaseStore;
            var codes = new int[store.LeadSlots];
            for (int lead = 0; lead < codes.Length; lead++)
            {
                long firstTime = long.MaxValue;
                int firstSource = 0;
                bool found = false;
                IEnumerable<int> slices = store.AbsorbedBy(lead) ?? IncrementalAnalyticsStore.NoSlices;
                foreach (int slice in lead < store.BaseLeadCount ? slices.Prepend(lead) : slices)
                {
                    for (int i = baseStore.Offsets[slice]; i < baseStore.Offsets[slice + 1]; i++)
                    {
                        if (exposure[baseStore.Terms[i]])
                        {
                            if (!found || baseStore.Times[i] < firstTime)
                            {
                                (firstTime, firstSource, found) = (baseStore.Times[i], i, true);
                            }

                            break;
                        }
                    }
                }

                AppendedEvent[] appended = store.Appended;
                for (int i = store.Head[lead] - 1; i >= 0; i = appended[i].Next - 1)
                {
                    if (exposure[appended[i].Term] && (!found || appended[i].Time < firstTime))
                    {
                        (firstTime, firstSource, found) = (appended[i].Time, ~i, true);
                    }
                }

                codes[lead] = found ? store.DimensionCode(AnalyticsEventStore.VariantDimension, firstSource) : 0;
            }

            return new IncrementalGrouping(-1, codes, view.DimensionValues[AnalyticsEventStore.VariantDimension]);
        }

        /// <summary>Per lead, the week of its first event, base or appended.</summary>
        private static IncrementalGrouping ByFirstTouchWeek(IncrementalAnalyticsStore store, DateTimeZone zone)
        {
            AnalyticsEventStore baseStore = store.BaseStore;
            var codes = new int[store.LeadSlots];
            var weeks = new Dictionary<LocalDate, int>();
            var names = new List<string?>();
            for (int lead = 0; lead < codes.Length; lead++)
            {
                if (store.Flags[lead] == IncrementalAnalyticsStore.MergedAway)
                {
                    continue;
                }

                long first = lead < store.BaseLeadCount ? baseStore.Times[baseStore.Offsets[lead]] : long.MaxValue;
                foreach (int slice in store.AbsorbedBy(lead) ?? IncrementalAnalyticsStore.NoSlices)
                {
                    first = Math.Min(first, baseStore.Times[baseStore.Offsets[slice]]);
                }
                AppendedEvent[] appended = store.Appended;
                for (int i = store.Head[lead] - 1; i >= 0; i = appended[i].Next - 1)
                {
                    first = Math.Min(first, appended[i].Time);
                }

                codes[lead] = WeekCode(first, zone, weeks, names);
            }

            return new IncrementalGrouping(-1, codes, [.. names]);
        }
    }
}
