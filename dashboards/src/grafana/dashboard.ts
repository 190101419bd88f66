// A dashboard as grafana-dash-gen models it — a Dashboard of Rows — rendered for current Grafana.
import type { Dashboard as GrafanaDashboard, Panel as GrafanaPanel, RowPanel } from "@grafana/schema";
import dashgen from "grafana-dash-gen";
import { type Annotation, BUILT_IN_ANNOTATION } from "./annotations.ts";
import type { Panel } from "./panels.ts";
import type { Variable } from "./variables.ts";

/** Grafana 11.x writes 39; Grafana 11 and 12 import it without migration. */
export const SCHEMA_VERSION = 39;
const GRID_COLUMNS = 24;

/**
 * A row of panels: grafana-dash-gen's Row, which holds the row's title. What it lacks: its
 * `addPanel` takes only its own panel classes (graph, singlestat, table, text, dashlist; Graph with
 * a private field, so nothing else passes for one), so the panels of current Grafana are kept here.
 */
export class GridRow extends dashgen.Row {
  readonly gridPanels: readonly Panel[];
  constructor(title: string, panels: readonly Panel[]) {
    super({ title });
    this.gridPanels = panels;
  }
  get title(): string {
    return this.state.title ?? "";
  }
}

export interface GridDashboardOptions {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  variables: Variable[];
  annotations?: Annotation[];
}

/**
 * grafana-dash-gen's Dashboard holds what it models: title, tags, timezone, refresh, schema
 * version, time range and the rows (addRow). What it lacks is kept beside it: the uid and
 * description of Grafana 5+, the variables (variables.ts) and annotations (annotations.ts) its
 * Graphite-era templates and annotations cannot express, and the layout — toGrafana() renders the
 * rows as row panels with their panels on the 24-column `gridPos` grid, where the library's
 * generate() would write the pre-Grafana-5 `rows[]`.
 */
export class GridDashboard extends dashgen.Dashboard {
  declare rows: GridRow[];
  readonly uid: string;
  readonly description: string;
  readonly variables: readonly Variable[];
  readonly annotations: readonly Annotation[];
  constructor(options: GridDashboardOptions) {
    super({
      title: options.title,
      tags: options.tags,
      timezone: "utc",
      refresh: "30s",
      schemaVersion: SCHEMA_VERSION,
      time: { from: "now-6h", to: "now" },
    });
    this.uid = options.uid;
    this.description = options.description;
    this.variables = options.variables;
    this.annotations = options.annotations ?? [];
  }

  override addRow(row: GridRow): this {
    super.addRow(row);
    return this;
  }

  addSection(title: string, panels: Panel[]): this {
    return this.addRow(new GridRow(title, panels));
  }

  /** The dashboard, typed by Grafana's own schema (@grafana/schema), so the compiler checks the shape. */
  toGrafana(): GrafanaDashboard {
    const { title, tags, timezone, editable, refresh, schemaVersion, time } = this.state;
    return {
      id: null,
      uid: this.uid,
      title,
      description: this.description,
      tags,
      timezone,
      editable,
      graphTooltip: 1,
      refresh: typeof refresh === "string" ? refresh : "",
      schemaVersion,
      time: time ?? undefined,
      fiscalYearStartMonth: 0,
      liveNow: false,
      links: [],
      annotations: { list: [BUILT_IN_ANNOTATION, ...this.annotations.map((a) => a.generate())] },
      templating: { list: this.variables.map((v) => v.generate()) },
      panels: layOut(this.rows),
      version: 1,
    };
  }
}

/** Each row as a row panel, then its panels left to right, wrapping at 24 columns; ids in order. */
function layOut(rows: readonly GridRow[]): Array<GrafanaPanel | RowPanel> {
  const panels: Array<GrafanaPanel | RowPanel> = [];
  let id = 0;
  let y = 0;
  for (const row of rows) {
    panels.push({
      type: "row",
      id: ++id,
      title: row.title,
      collapsed: false,
      gridPos: { x: 0, y, w: GRID_COLUMNS, h: 1 },
      panels: [],
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const panel of row.gridPanels) {
      const w = panel.options.width ?? 8;
      const h = panel.options.height ?? 8;
      if (x + w > GRID_COLUMNS) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      panels.push({ id: ++id, gridPos: { x, y, w, h }, ...panel.generate() });
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return panels;
}
