package dev.open.dag.store;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;

/**
 * What {@link StandardCodec} needs of a record class, found once per class: its components'
 * names, declared types and accessors, and its canonical constructor, all made accessible; or why
 * it cannot use them.
 *
 * @param names the components' names, in declaration order
 * @param types their declared (erased) types
 * @param accessors their accessors
 * @param constructor the canonical constructor
 * @param problem why the record cannot be encoded or decoded, or null when it can
 */
record RecordShape(String[] names, Class<?>[] types, Method[] accessors,
    Constructor<?> constructor, String problem) {

  private static final ClassValue<RecordShape> SHAPES = new ClassValue<>() {
    @Override
    protected RecordShape computeValue(Class<?> type) {
      return find(type);
    }
  };

  /**
   * Returns the shape of {@code type}, a record class.
   *
   * @param type a record class
   * @return its shape, whose {@link #problem} says if it is unusable
   */
  static RecordShape of(Class<?> type) {
    return SHAPES.get(type);
  }

  /**
   * Returns whether a component declared {@code type} can take {@code value}, a decoded value:
   * for a primitive type, exactly its wrapper, never null.
   *
   * @param type the component's declared type
   * @param value the decoded value
   * @return true when the canonical constructor takes it as it is
   */
  static boolean takes(Class<?> type, Object value) {
    if (!type.isPrimitive()) {
      return value == null || type.isInstance(value);
    }
    return value != null && value.getClass() == wrapper(type);
  }

  private static Class<?> wrapper(Class<?> primitive) {
    return java.lang.invoke.MethodType.methodType(primitive).wrap().returnType();
  }

  private static RecordShape find(Class<?> type) {
    String name = type.getName();
    if (!type.isRecord()) {
      return broken(name + " is not a record class");
    }
    if (type.isHidden()) {
      return broken("record " + name + " is a hidden class, which cannot be loaded by name");
    }
    RecordComponent[] components = type.getRecordComponents();
    String[] names = new String[components.length];
    Class<?>[] types = new Class<?>[components.length];
    Method[] accessors = new Method[components.length];
    for (int i = 0; i < components.length; i++) {
      names[i] = components[i].getName();
      types[i] = components[i].getType();
      accessors[i] = components[i].getAccessor();
      if (!accessors[i].trySetAccessible()) {
        return broken("the accessor " + names[i] + "() of record " + name
            + " is not accessible to module dev.open.dag (export or open its package to it)");
      }
    }
    Constructor<?> constructor;
    try {
      constructor = type.getDeclaredConstructor(types);
    } catch (NoSuchMethodException e) {
      return broken("record " + name + " has no canonical constructor");
    }
    if (!constructor.trySetAccessible()) {
      return broken("the canonical constructor of record " + name
          + " is not accessible to module dev.open.dag (export or open its package to it)");
    }
    return new RecordShape(names, types, accessors, constructor, null);
  }

  private static RecordShape broken(String problem) {
    return new RecordShape(null, null, null, null, problem);
  }
}
