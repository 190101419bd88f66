// Panels of current Grafana. grafana-dash-gen's panels are Graphite-era `graph`, `singlestat`,
// `table` and `text`: defaults of Grafana 4 (span, styles, sparkline), Graphite targets, no
// fieldConfig or options. These three are what Grafana 7+ draws (`timeseries`, `stat`, `table`),
// typed by @grafana/schema; the dashboard gives each its id and grid position (dashboard.ts).
import type { FieldConfig, Panel as GrafanaPanel, TableFieldOptions } from "@grafana/schema";
import {
  BigValueColorMode,
  BigValueGraphMode,
  BigValueJustifyMode,
  BigValueTextMode,
  FieldColorModeId,
  GraphDrawStyle,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  PercentChangeColorMode,
  SortOrder,
  TableCellDisplayMode,
  TableCellHeight,
  ThresholdsMode,
  TooltipDisplayMode,
  VisibilityMode,
  VizOrientation,
} from "@grafana/schema";
import type { Options as StatOptions } from "@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen";
import type { Options as TableOptions } from "@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen";
import type {
  FieldConfig as TimeSeriesFieldConfig,
  Options as TimeSeriesOptions,
} from "@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen";
import { CLOUDWATCH, type DatasourceRef, PROMETHEUS, PrometheusTarget, type Target } from "./targets.ts";

export interface PanelOptions {
  title: string;
  description: string;
  /** Grafana unit id: `reqps`, `percentunit`, `s`, `ms`, `bytes`, `Bps`, `percent`, `short`, `ops`. */
  unit: string;
  targets: Target[];
  /** Width in grid columns (of 24); default 8. */
  width?: number;
  height?: number;
  /** Values from which the panel turns red (stat: background; timeseries: threshold line). */
  redFrom?: number;
  min?: number;
  max?: number;
}

/** A panel without its id and grid position, which the dashboard assigns. */
export type UnplacedPanel = Omit<GrafanaPanel, "id" | "gridPos">;

abstract class GridPanel {
  readonly options: PanelOptions;
  abstract readonly type: "timeseries" | "stat" | "table";
  constructor(options: PanelOptions) {
    if (options.targets.length === 0) throw new Error(`panel ${options.title}: no queries`);
    const kinds = new Set(options.targets.map((t) => t instanceof PrometheusTarget));
    if (kinds.size > 1) throw new Error(`panel ${options.title}: mixes Prometheus and CloudWatch queries`);
    this.options = options;
  }
  get datasource(): DatasourceRef {
    return this.options.targets[0] instanceof PrometheusTarget ? PROMETHEUS : CLOUDWATCH;
  }
  protected fieldDefaults(): FieldConfig {
    const { unit, redFrom, min, max } = this.options;
    const steps: Array<{ color: string; value: number | null }> = [{ color: "green", value: null }];
    if (redFrom !== undefined) steps.push({ color: "red", value: redFrom });
    return {
      unit,
      ...(min === undefined ? {} : { min }),
      ...(max === undefined ? {} : { max }),
      thresholds: { mode: ThresholdsMode.Absolute, steps },
      color: {
        mode: this.type === "timeseries" ? FieldColorModeId.PaletteClassic : FieldColorModeId.Thresholds,
      },
    };
  }
  protected abstract panelOptions(): TimeSeriesOptions | StatOptions | TableOptions;
  protected custom(): TimeSeriesFieldConfig | TableFieldOptions | Record<string, never> {
    return {};
  }
  // The schema keeps a plugin's queries, options and custom field config open (records); the
  // spreads hand it our typed ones as plain records.
  generate(): UnplacedPanel {
    return {
      type: this.type,
      title: this.options.title,
      description: this.options.description,
      datasource: this.datasource,
      targets: this.options.targets.map((t, i) => ({ ...t.generate(String.fromCharCode(65 + i)) })),
      fieldConfig: { defaults: { ...this.fieldDefaults(), custom: { ...this.custom() } }, overrides: [] },
      options: { ...this.panelOptions() },
    };
  }
}

export class TimeseriesPanel extends GridPanel {
  readonly type = "timeseries";
  protected override custom(): TimeSeriesFieldConfig {
    return {
      drawStyle: GraphDrawStyle.Line,
      lineWidth: 1,
      fillOpacity: 10,
      showPoints: VisibilityMode.Never,
      spanNulls: false,
      thresholdsStyle: {
        mode:
          this.options.redFrom === undefined ? GraphThresholdsStyleMode.Off : GraphThresholdsStyleMode.Line,
      },
    };
  }
  protected panelOptions(): TimeSeriesOptions {
    return {
      legend: { displayMode: LegendDisplayMode.List, placement: "bottom", showLegend: true, calcs: [] },
      tooltip: { mode: TooltipDisplayMode.Multi, sort: SortOrder.Descending },
    };
  }
}

export class StatPanel extends GridPanel {
  readonly type = "stat";
  protected panelOptions(): StatOptions {
    return {
      reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
      colorMode: BigValueColorMode.Background,
      graphMode: BigValueGraphMode.Area,
      justifyMode: BigValueJustifyMode.Auto,
      textMode: BigValueTextMode.Auto,
      orientation: VizOrientation.Auto,
      percentChangeColorMode: PercentChangeColorMode.Standard,
      showPercentChange: false,
      wideLayout: true,
    };
  }
}

/**
 * One row per series. PromQL instant queries arrive as one frame per series and are merged;
 * CloudWatch answers time series, which are reduced to their total over the dashboard's range.
 */
export class TablePanel extends GridPanel {
  readonly type = "table";
  protected panelOptions(): TableOptions {
    return { showHeader: true, cellHeight: TableCellHeight.Sm, frameIndex: 0 };
  }
  /** Grafana's table field options require `align` and `inspect` (grafana-foundation-sdk sets both). */
  protected override custom(): TableFieldOptions {
    return { align: "auto", inspect: false, cellOptions: { type: TableCellDisplayMode.Auto } };
  }
  override generate(): UnplacedPanel {
    const transformation =
      this.datasource.type === "prometheus"
        ? { id: "merge", options: {} }
        : { id: "reduce", options: { reducers: ["sum"], mode: "seriesToRows", includeTimeField: false } };
    return { ...super.generate(), transformations: [transformation] };
  }
}

export type Panel = TimeseriesPanel | StatPanel | TablePanel;
