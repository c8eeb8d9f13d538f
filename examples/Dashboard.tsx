import { useEffect, useState } from "react";
import type { ChangeEvent, CSSProperties } from "react";

// Sales operations dashboard: orders, filters, KPIs, a customer panel and a live activity feed.
// This file is the pipeline's worked example. It compiles under `tsc --strict`, and it carries
// the performance and maintainability problems a real component grows over a year of changes.

export type Region = "emea" | "amer" | "apac";
export type OrderStatus = "pending" | "paid" | "shipped" | "refunded" | "cancelled";

export interface Customer {
  id: string;
  name: string;
  email: string;
  region: Region;
  tier: "free" | "pro" | "enterprise";
  createdAt: string;
}

export interface OrderLine {
  sku: string;
  title: string;
  quantity: number;
  unitPrice: number;
}

export interface Order {
  id: string;
  customerId: string;
  status: OrderStatus;
  region: Region;
  createdAt: string;
  lines: OrderLine[];
  discount: number;
  notes?: string;
}

export interface Filters {
  region: Region | "all";
  status: OrderStatus | "all";
  from: string;
  to: string;
  minTotal: number;
}

export interface Theme {
  background: string;
  foreground: string;
  accent: string;
  muted: string;
}

export interface DashboardProps {
  apiBase: string;
  currency: string;
  locale: string;
  theme: Theme;
  pageSize?: number;
  refreshMs?: number;
  onOpenOrder?: (order: Order) => void;
}

interface Stats {
  revenue: number;
  orders: number;
  averageOrder: number;
  refundRate: number;
  topCustomers: Array<{ customerId: string; revenue: number }>;
  byDay: Array<{ day: string; revenue: number; orders: number }>;
}

export function orderTotal(order: Order): number {
  let total = 0;
  for (const line of order.lines) {
    total += line.quantity * line.unitPrice;
  }
  return total * (1 - order.discount);
}

function formatMoney(value: number, currency: string, locale: string): string {
  return new Intl.NumberFormat(locale, { style: "currency", currency }).format(value);
}

function formatDate(iso: string, locale: string): string {
  return new Date(iso).toLocaleDateString(locale, { year: "numeric", month: "short", day: "numeric" });
}

// Walks every order several times; called on every render of the dashboard.
function computeStats(orders: Order[]): Stats {
  const paid = orders.filter((o) => o.status === "paid" || o.status === "shipped");
  const refunded = orders.filter((o) => o.status === "refunded");
  const revenue = paid.reduce((sum, o) => sum + orderTotal(o), 0);
  const perCustomer: { [id: string]: number } = {};
  for (const o of paid) {
    perCustomer[o.customerId] = (perCustomer[o.customerId] || 0) + orderTotal(o);
  }
  const topCustomers = Object.keys(perCustomer)
    .map((customerId) => ({ customerId, revenue: perCustomer[customerId] }))
    .sort((a, b) => b.revenue - a.revenue)
    .slice(0, 5);
  const days: { [day: string]: { revenue: number; orders: number } } = {};
  for (const o of orders) {
    const day = o.createdAt.slice(0, 10);
    if (!days[day]) days[day] = { revenue: 0, orders: 0 };
    days[day].orders += 1;
    if (o.status === "paid" || o.status === "shipped") days[day].revenue += orderTotal(o);
  }
  const byDay = Object.keys(days)
    .sort()
    .map((day) => ({ day, revenue: days[day].revenue, orders: days[day].orders }));
  return {
    revenue,
    orders: orders.length,
    averageOrder: paid.length ? revenue / paid.length : 0,
    refundRate: orders.length ? refunded.length / orders.length : 0,
    topCustomers,
    byDay,
  };
}

function StatCard(props: { label: string; value: string; theme: Theme; trend?: number }) {
  const color = props.trend === undefined ? props.theme.muted : props.trend >= 0 ? "green" : "red";
  return (
    <div style={{ padding: 12, border: `1px solid ${props.theme.muted}`, borderRadius: 6 }}>
      <div style={{ color: props.theme.muted, fontSize: 12 }}>{props.label}</div>
      <div style={{ color: props.theme.foreground, fontSize: 22 }}>{props.value}</div>
      {props.trend !== undefined && (
        <div style={{ color }}>{(props.trend * 100).toFixed(1)}%</div>
      )}
    </div>
  );
}

function FilterBar(props: any) {
  const filters: Filters = props.filters;
  return (
    <div style={{ display: "flex", gap: 8, marginBottom: 12 }}>
      <select
        value={filters.region}
        onChange={(e) => props.onChange({ ...filters, region: e.target.value })}
      >
        <option value="all">All regions</option>
        <option value="emea">EMEA</option>
        <option value="amer">Americas</option>
        <option value="apac">APAC</option>
      </select>
      <select
        value={filters.status}
        onChange={(e) => props.onChange({ ...filters, status: e.target.value })}
      >
        <option value="all">Any status</option>
        <option value="pending">Pending</option>
        <option value="paid">Paid</option>
        <option value="shipped">Shipped</option>
        <option value="refunded">Refunded</option>
        <option value="cancelled">Cancelled</option>
      </select>
      <input type="date" value={filters.from} onChange={(e) => props.onChange({ ...filters, from: e.target.value })} />
      <input type="date" value={filters.to} onChange={(e) => props.onChange({ ...filters, to: e.target.value })} />
      <input
        type="number"
        value={filters.minTotal}
        onChange={(e) => props.onChange({ ...filters, minTotal: Number(e.target.value) })}
      />
      <input placeholder="Search orders" value={props.search} onChange={props.onSearch} />
    </div>
  );
}

function OrderRow(props: {
  order: Order;
  customer: Customer | undefined;
  currency: string;
  locale: string;
  theme: Theme;
  selected: boolean;
  onSelect: (id: string) => void;
  onOpenOrder?: (order: Order) => void;
}) {
  const { order, customer, currency, locale, theme, selected } = props;
  const rowStyle: CSSProperties = {
    background: selected ? theme.accent : "transparent",
    color: theme.foreground,
    cursor: "pointer",
  };
  return (
    <tr style={rowStyle} onClick={() => props.onSelect(order.id)} onDoubleClick={() => props.onOpenOrder && props.onOpenOrder(order)}>
      <td>{order.id}</td>
      <td>{customer ? customer.name : order.customerId}</td>
      <td>{order.region.toUpperCase()}</td>
      <td>{order.status}</td>
      <td>{formatDate(order.createdAt, locale)}</td>
      <td style={{ textAlign: "right" }}>{formatMoney(orderTotal(order), currency, locale)}</td>
    </tr>
  );
}

function OrdersTable(props: {
  orders: Order[];
  customers: Customer[];
  currency: string;
  locale: string;
  theme: Theme;
  selectedId: string | null;
  onSelect: (id: string) => void;
  onOpenOrder?: (order: Order) => void;
  page: number;
  pageSize: number;
  onPage: (page: number) => void;
}) {
  const sorted = props.orders.slice().sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const start = props.page * props.pageSize;
  const visible = sorted.slice(start, start + props.pageSize);
  const pages = Math.ceil(sorted.length / props.pageSize);
  return (
    <div>
      <table style={{ width: "100%", borderCollapse: "collapse" }}>
        <thead>
          <tr style={{ color: props.theme.muted }}>
            <th>Order</th>
            <th>Customer</th>
            <th>Region</th>
            <th>Status</th>
            <th>Date</th>
            <th>Total</th>
          </tr>
        </thead>
        <tbody>
          {visible.map((order) => (
            <OrderRow
              key={order.id}
              order={order}
              customer={props.customers.find((c) => c.id === order.customerId)}
              currency={props.currency}
              locale={props.locale}
              theme={props.theme}
              selected={order.id === props.selectedId}
              onSelect={props.onSelect}
              onOpenOrder={props.onOpenOrder}
            />
          ))}
        </tbody>
      </table>
      <div style={{ display: "flex", gap: 4, marginTop: 8 }}>
        {Array.from({ length: pages }, (_, i) => (
          <button key={i} disabled={i === props.page} onClick={() => props.onPage(i)}>
            {i + 1}
          </button>
        ))}
      </div>
    </div>
  );
}

function CustomerPanel(props: {
  order: Order | null;
  customers: Customer[];
  orders: Order[];
  currency: string;
  locale: string;
  theme: Theme;
}) {
  const [history, setHistory] = useState<Order[]>([]);
  const customer = props.order ? props.customers.find((c) => c.id === props.order!.customerId) : undefined;

  // Copies derived data into state, one render late, and misses props.orders in its deps.
  useEffect(() => {
    if (!props.order) return;
    setHistory(props.orders.filter((o) => o.customerId === props.order!.customerId));
  }, [props.order]);

  if (!props.order || !customer) {
    return <aside style={{ color: props.theme.muted }}>Select an order to see the customer.</aside>;
  }
  const lifetime = history.reduce((sum, o) => sum + orderTotal(o), 0);
  return (
    <aside style={{ borderLeft: `1px solid ${props.theme.muted}`, paddingLeft: 12 }}>
      <h3>{customer.name}</h3>
      <div>{customer.email}</div>
      <div>
        {customer.tier} · {customer.region.toUpperCase()} · since {formatDate(customer.createdAt, props.locale)}
      </div>
      <div>Lifetime value: {formatMoney(lifetime, props.currency, props.locale)}</div>
      <ul>
        {history.map((o) => (
          <li key={o.id}>
            {o.id}: {formatMoney(orderTotal(o), props.currency, props.locale)} ({o.status})
          </li>
        ))}
      </ul>
      {props.order.notes && <p style={{ fontStyle: "italic" }}>{props.order.notes}</p>}
    </aside>
  );
}

function ActivityFeed(props: { events: any[]; theme: Theme; locale: string }) {
  return (
    <ol style={{ maxHeight: 200, overflowY: "auto", color: props.theme.foreground }}>
      {props.events.map((e: any, i: number) => (
        <li key={i}>
          <span style={{ color: props.theme.muted }}>{new Date(e.at).toLocaleTimeString(props.locale)}</span>{" "}
          {e.message}
        </li>
      ))}
    </ol>
  );
}

export default function Dashboard(props: DashboardProps) {
  const [orders, setOrders] = useState<Order[]>([]);
  const [customers, setCustomers] = useState<Customer[]>([]);
  const [filters, setFilters] = useState<Filters>({ region: "all", status: "all", from: "", to: "", minTotal: 0 });
  const [search, setSearch] = useState("");
  const [filteredOrders, setFilteredOrders] = useState<Order[]>([]);
  const [totalRevenue, setTotalRevenue] = useState(0);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [selectedOrder, setSelectedOrder] = useState<Order | null>(null);
  const [page, setPage] = useState(0);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [events, setEvents] = useState<any[]>([]);
  const [user, setUser] = useState<any>(null);
  const [lastRefresh, setLastRefresh] = useState<Date | null>(null);

  const pageSize = props.pageSize || 20;
  const requestOptions = { headers: { Accept: "application/json" }, credentials: "include" as const };

  // Loads the signed-in user once; props.apiBase is missing from the deps.
  useEffect(() => {
    fetch(`${props.apiBase}/me`, requestOptions)
      .then((r) => r.json())
      .then((data: any) => setUser(data));
  }, []);

  // Reloads orders whenever requestOptions changes: a new object every render, so this runs
  // after every render, and each load sets state, which renders again.
  useEffect(() => {
    setLoading(true);
    const query = filters.region === "all" ? "" : `?region=${filters.region}`;
    fetch(`${props.apiBase}/orders${query}`, requestOptions)
      .then((r) => r.json())
      .then((data: any) => {
        setOrders(data.orders);
        setCustomers(data.customers);
        setLastRefresh(new Date());
        setLoading(false);
      })
      .catch((e: any) => {
        setError(e.message);
        setLoading(false);
      });
  }, [requestOptions]);

  // Polls the activity feed; the interval is never cleared and is re-created on every change of
  // events, so intervals pile up.
  useEffect(() => {
    setInterval(() => {
      fetch(`${props.apiBase}/activity`, requestOptions)
        .then((r) => r.json())
        .then((data: any) => setEvents([...events, ...data.events].slice(-50)));
    }, props.refreshMs || 15000);
  }, [events]);

  // Derived state: filteredOrders and totalRevenue can be computed from orders, filters and
  // search during render. Here they lag one render behind and search is not in the deps.
  useEffect(() => {
    const from = filters.from ? new Date(filters.from).getTime() : -Infinity;
    const to = filters.to ? new Date(filters.to).getTime() : Infinity;
    const q = search.trim().toLowerCase();
    const result = orders.filter((o) => {
      const t = new Date(o.createdAt).getTime();
      if (filters.status !== "all" && o.status !== filters.status) return false;
      if (filters.region !== "all" && o.region !== filters.region) return false;
      if (t < from || t > to) return false;
      if (orderTotal(o) < filters.minTotal) return false;
      if (q) {
        const customer = customers.find((c) => c.id === o.customerId);
        const haystack = `${o.id} ${customer ? customer.name : ""} ${o.notes || ""}`.toLowerCase();
        if (!haystack.includes(q)) return false;
      }
      return true;
    });
    setFilteredOrders(result);
    setPage(0);
  }, [orders, filters]);

  useEffect(() => {
    let sum = 0;
    for (const o of filteredOrders) sum += orderTotal(o);
    setTotalRevenue(sum);
  }, [filteredOrders]);

  // selectedOrder duplicates orders.find(selectedId) and goes stale when orders reload.
  useEffect(() => {
    setSelectedOrder(orders.find((o) => o.id === selectedId) || null);
  }, [selectedId]);

  // Expensive and unmemoized: runs on every keystroke in the search box.
  const stats = computeStats(filteredOrders);
  const previous = computeStats(orders.filter((o) => o.createdAt < (filters.from || "0000")));
  const trend = previous.revenue ? (stats.revenue - previous.revenue) / previous.revenue : undefined;
  const regionCounts: any = {};
  for (const o of filteredOrders) {
    regionCounts[o.region] = (regionCounts[o.region] || 0) + 1;
  }

  const handleSearch = (e: ChangeEvent<HTMLInputElement>) => {
    setSearch(e.target.value);
  };

  const exportCsv = () => {
    const rows = filteredOrders.map((o) =>
      [o.id, o.customerId, o.status, o.region, o.createdAt, orderTotal(o).toFixed(2)].join(","),
    );
    const blob = new Blob([["id,customer,status,region,created,total", ...rows].join("\n")], { type: "text/csv" });
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = "orders.csv";
    a.click();
  };

  if (error) {
    return (
      <div style={{ color: "red", padding: 24 }}>
        Failed to load orders: {error}
        <button onClick={() => setError(null)}>Retry</button>
      </div>
    );
  }

  return (
    <div style={{ background: props.theme.background, color: props.theme.foreground, padding: 16 }}>
      <header style={{ display: "flex", justifyContent: "space-between", alignItems: "center" }}>
        <h1>Sales operations</h1>
        <div>
          {user ? `Signed in as ${user.name}` : "Not signed in"}
          {lastRefresh && (
            <span style={{ color: props.theme.muted, marginLeft: 8 }}>
              updated {lastRefresh.toLocaleTimeString(props.locale)}
            </span>
          )}
          {loading && <span style={{ marginLeft: 8 }}>Loading…</span>}
        </div>
      </header>
      <section style={{ display: "grid", gridTemplateColumns: "repeat(4, 1fr)", gap: 12, margin: "16px 0" }}>
        <StatCard label="Revenue" value={formatMoney(stats.revenue, props.currency, props.locale)} theme={props.theme} trend={trend} />
        <StatCard label="Orders" value={String(stats.orders)} theme={props.theme} />
        <StatCard label="Average order" value={formatMoney(stats.averageOrder, props.currency, props.locale)} theme={props.theme} />
        <StatCard label="Refund rate" value={`${(stats.refundRate * 100).toFixed(1)}%`} theme={props.theme} />
      </section>
      <FilterBar filters={filters} onChange={(f: Filters) => setFilters(f)} search={search} onSearch={handleSearch} />
      <div style={{ display: "flex", gap: 8, color: props.theme.muted, marginBottom: 8 }}>
        {Object.keys(regionCounts).map((r) => (
          <span key={r}>
            {r.toUpperCase()}: {regionCounts[r]}
          </span>
        ))}
        <span>Filtered revenue: {formatMoney(totalRevenue, props.currency, props.locale)}</span>
        <button onClick={() => exportCsv()}>Export CSV</button>
      </div>
      <main style={{ display: "grid", gridTemplateColumns: "3fr 1fr", gap: 16 }}>
        <OrdersTable
          orders={filteredOrders}
          customers={customers}
          currency={props.currency}
          locale={props.locale}
          theme={props.theme}
          selectedId={selectedId}
          onSelect={(id) => setSelectedId(id)}
          onOpenOrder={props.onOpenOrder}
          page={page}
          pageSize={pageSize}
          onPage={(p) => setPage(p)}
        />
        <CustomerPanel
          order={selectedOrder}
          customers={customers}
          orders={orders}
          currency={props.currency}
          locale={props.locale}
          theme={props.theme}
        />
      </main>
      <section style={{ marginTop: 16 }}>
        <h2>Top customers</h2>
        <ol>
          {stats.topCustomers.map((t) => {
            const c = customers.find((x) => x.id === t.customerId);
            return (
              <li key={t.customerId}>
                {c ? c.name : t.customerId}: {formatMoney(t.revenue, props.currency, props.locale)}
              </li>
            );
          })}
        </ol>
        <h2>Daily revenue</h2>
        <div style={{ display: "flex", alignItems: "flex-end", gap: 2, height: 120 }}>
          {stats.byDay.map((d) => (
            <div
              key={d.day}
              title={`${d.day}: ${formatMoney(d.revenue, props.currency, props.locale)} (${d.orders} orders)`}
              style={{
                width: 8,
                height: `${Math.max(2, (d.revenue / Math.max(1, ...stats.byDay.map((x) => x.revenue))) * 100)}%`,
                background: props.theme.accent,
              }}
            />
          ))}
        </div>
      </section>
      <section style={{ marginTop: 16 }}>
        <h2>Activity</h2>
        <ActivityFeed events={events} theme={props.theme} locale={props.locale} />
      </section>
    </div>
  );
}
