package dev.open.examples.docs;

import java.util.List;

/**
 * The small made-up business that the guides' examples talk about (orders, customers,
 * invoices): just enough of it for {@link DocSnippetsTest} to compile every snippet as written.
 */
public final class DocsDomain {
  private DocsDomain() {}

  /** An order. */
  public record Order(long id, Money amount) {}

  /** A customer. */
  public record Customer(long id, String name) {}

  /** An amount of money. */
  public record Money(long cents) {
    /** Adds up amounts. */
    public static Money sum(List<Money> amounts) {
      return new Money(amounts.stream().mapToLong(Money::cents).sum());
    }
  }

  /** An invoice. */
  public record Invoice(Customer customer, List<Order> orders) {}

  /** A receipt for one order. */
  public record Receipt(Order order) {}

  /** A report. */
  public record Report(Invoice invoice) {}

  /** Makes invoices. */
  public static final class Invoices {
    private Invoices() {}

    public static Invoice of(List<Order> orders, Customer customer) {
      return new Invoice(customer, orders);
    }
  }

  /** Makes receipts. */
  public static final class Receipts {
    private Receipts() {}

    public static Receipt of(Order order) {
      return new Receipt(order);
    }
  }

  /** Makes reports. */
  public static final class Reports {
    private Reports() {}

    public static Report build(List<Order> orders, Customer customer) {
      return new Report(Invoices.of(orders, customer));
    }
  }

  /** Where orders come from. */
  public interface Repository {
    List<Order> loadOrders();
  }

  /** Where customers come from. */
  public interface Crm {
    Customer customer(long id);
  }

  /** Sends invoices. */
  public interface Mailer {
    void send(Invoice invoice);
  }

  /** Sends alerts. */
  public interface Alerts {
    void send(String message);
  }
}
